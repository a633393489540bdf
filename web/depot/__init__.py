"""The depot manager's phone page (/depot)."""
