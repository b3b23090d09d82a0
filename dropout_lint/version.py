"""The version of dropout-lint, in a module of its own: what names it (the cache's key,
the SARIF report) imports nothing else of the package for it."""

__version__ = "0.1.0"
