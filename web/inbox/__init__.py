"""The signed-in user's notification inbox (/inbox)."""
