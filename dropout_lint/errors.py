"""Errors the user must fix, shared by the modules that find them and the ones that
report them."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration the user must fix; reported with exit code 2."""
