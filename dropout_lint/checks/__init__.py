"""One module per rule. The registry lists them; nothing registers itself on import."""
