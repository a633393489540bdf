"""Warning engine: CMA criteria per community, alert lifecycle and CAP 1.2 messages."""
