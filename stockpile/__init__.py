"""Relief depots, items, the append-only stock ledger, dispatch planning and orders."""
