"""Notifications: in-app inbox, e-mail and SMS deliveries, acknowledgement and escalation."""
