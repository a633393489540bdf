"""Command groups of the ``disaster`` CLI."""
