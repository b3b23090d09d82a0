"""The runtime tracer: the only part of dropout-lint that imports torch."""
