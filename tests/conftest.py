from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Let test modules import the shared helpers module.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True, scope="session")
def _cache_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Runs of the command line (in this process or a child) keep their cache in a temporary
    folder, not beside the checkout's fixtures, which tests copy."""
    before = os.environ.get("DROPOUT_LINT_CACHE_DIR")
    os.environ["DROPOUT_LINT_CACHE_DIR"] = str(tmp_path_factory.mktemp("dropout-lint-cache"))
    yield
    if before is None:
        del os.environ["DROPOUT_LINT_CACHE_DIR"]
    else:
        os.environ["DROPOUT_LINT_CACHE_DIR"] = before
