"""Shelter registry, occupancy and hazard-aware evacuation planning."""
