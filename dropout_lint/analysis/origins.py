"""Where a resolved number came from, as the findings show it: ``the default of `drop```
when it is only a default that the code's caller may change (a function parameter's, a
command-line option's). Plain strings, so that the project phase reads them without
the parser."""

from __future__ import annotations

from typing import Optional

_DEFAULT = "the default of "


def default_origin(what: str) -> str:
    """``the default of `drop```: the origin of a number a caller may override."""
    return f"{_DEFAULT}{what}"


def chosen_by_caller(origin: Optional[str]) -> bool:
    """Whether a resolved number is only a default, which the code's caller may change."""
    return origin is not None and origin.startswith(_DEFAULT)
