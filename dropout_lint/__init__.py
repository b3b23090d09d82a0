"""dropout-lint: finds dropout misuse in PyTorch model and training code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dropout_lint.version import __version__

__all__ = ["Config", "Diagnostic", "__version__", "lint_source"]

if TYPE_CHECKING:
    from dropout_lint.config import Config
    from dropout_lint.diagnostics import Diagnostic
    from dropout_lint.engine import lint_source


def __getattr__(name: str) -> Any:
    # Imported lazily so that `dropout-lint --version` does not load libcst.
    if name == "lint_source":
        from dropout_lint.engine import lint_source

        return lint_source
    if name == "Config":
        from dropout_lint.config import Config

        return Config
    if name == "Diagnostic":
        from dropout_lint.diagnostics import Diagnostic

        return Diagnostic
    raise AttributeError(f"module 'dropout_lint' has no attribute {name!r}")
