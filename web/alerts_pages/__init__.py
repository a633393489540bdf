"""Pages of the warning area (the acknowledgement link of e-mails and SMS)."""
