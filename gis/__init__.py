"""Spatial infrastructure: database engines, geometry types, CRS handling, raster and vector I/O.

Everything that differs between SpatiaLite and PostGIS lives in this package.
"""
