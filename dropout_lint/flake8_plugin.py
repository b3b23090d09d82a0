"""dropout-lint as a flake8 plugin: ``flake8 --select DL`` reports what ``dropout-lint check``
reports for the same file.

Registered as the ``flake8.extension`` entry point ``DL``. Each file flake8 checks is linted
on its own with :func:`dropout_lint.engine.lint_source`, on the exact text flake8 read:

* Configuration is the ``[tool.dropout-lint]`` table of the nearest ``pyproject.toml`` above
  the file (read once per configuration file), as ``dropout-lint check <file>`` finds it, so that
  ``per-file-ignores``, ``max-rate`` and ``evaluation-functions`` apply. The rules that table
  enables (by default every rule that is not info) are the ones linted; flake8's own
  ``--select``/``--ignore``/``--extend-select`` then choose among them. An off-by-default
  rule (DL205, DL403, DL404) is turned on with ``extend-select`` in the table, not by
  flake8's options. flake8 decides which files are checked: dropout-lint's ``exclude`` and
  ``.gitignore`` handling do not apply (as for a file named on dropout-lint's command line).
* Cross-file rules (DL101-DL105, DL205, DL403, DL408, rates passed between classes) see one
  file at a time, exactly as ``dropout-lint check <that file>`` does.
* ``# noqa``: dropout-lint drops the findings its own ``# noqa`` comments suppress (so a
  ``#noqa: DL401``, without the space flake8 wants, works as it does on the command line),
  and flake8 then applies its own, which also accepts code prefixes (``# noqa: DL4``) and a
  comment on any line of a statement continued with a backslash or by a multi-line string.
  With ``--disable-noqa`` the plugin ignores dropout-lint's comments too, so that
  everything is reported.
* DL902 (unused noqa, info, off by default) is never reported under flake8, even where the
  table enables it: it judges a comment by dropout-lint's rules, and exactly where flake8's
  differ (a prefix, a comment after a backslash continuation) it would call "unused" or
  "unknown" a comment that flake8 does use, and removing that comment would bring the
  finding back. Run ``dropout-lint check`` for DL902.
* A file that does not parse: flake8 parses every file with Python's ``ast`` before it runs
  an AST plugin, and reports E999 itself when that fails; the plugin is not called, and
  adds nothing (a DL900 there would only repeat the E999). The plugin yields DL900 only
  where Python's parser accepts the file but libcst's does not (newer syntax than the
  installed libcst knows, or code nested too deeply): dropout-lint could not lint the file,
  and without DL900 that would pass silently. DL900 is an error-severity rule that the
  table cannot turn off (as under ``dropout-lint check``); flake8's ``--extend-ignore DL900``
  hides it.
* An invalid ``[tool.dropout-lint]`` table stops flake8 (its "failed during execution"
  error, naming the file and the problem), as it stops ``dropout-lint check`` with exit 2.

Importing this module is cheap: libcst and the checks load when the first file is linted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

from dropout_lint import __version__

if TYPE_CHECKING:
    import argparse
    import ast

    from dropout_lint.config import Config
    from dropout_lint.diagnostics import Diagnostic
    from dropout_lint.errors import ConfigError

# Per process (flake8 lints in worker processes): folder -> its config file, and config
# file -> the Config read from it (or the error reading it gave).
_CONFIG_FILE_FOR_FOLDER: dict[str, Optional[Path]] = {}
_CONFIG_FOR_FILE: dict[Optional[Path], Union[Config, ConfigError]] = {}


def config_for(filename: str) -> Config:
    """The Config that ``dropout-lint check <filename>`` would use (cached per config file)."""
    from dropout_lint.config import Config, find_config_file, load_config
    from dropout_lint.errors import ConfigError

    folder = os.path.dirname(os.path.abspath(filename))
    if folder not in _CONFIG_FILE_FOR_FOLDER:
        # Raises ConfigError for an unreadable or invalid pyproject.toml on the way up.
        _CONFIG_FILE_FOR_FOLDER[folder] = find_config_file([Path(folder)])
    source = _CONFIG_FILE_FOR_FOLDER[folder]
    if source not in _CONFIG_FOR_FILE:
        try:
            _CONFIG_FOR_FILE[source] = load_config(source) if source is not None else Config()
        except ConfigError as error:
            _CONFIG_FOR_FILE[source] = error
    found = _CONFIG_FOR_FILE[source]
    if isinstance(found, ConfigError):
        raise ConfigError(str(found))
    return found


class Flake8Plugin:
    """flake8 AST plugin (flake8 classifies it by its ``tree`` parameter; the tree itself
    is not used: dropout-lint parses ``lines`` with libcst)."""

    name = "dropout-lint"
    version = __version__

    # Set from flake8's options by parse_options (also in its worker processes).
    disable_noqa = False

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]) -> None:
        self.filename = filename
        self.source = "".join(lines)
        # Here rather than in run(): flake8 reports an exception raised while it builds
        # the plugin as a clear "failed during execution" error naming the file.
        self.config = config_for(filename)

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        cls.disable_noqa = bool(getattr(options, "disable_noqa", False))

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        from dropout_lint.catalog import UNUSED_NOQA

        for diagnostic in self._diagnostics():
            if diagnostic.code == UNUSED_NOQA.code:
                continue  # see the module's docstring
            # flake8 adds 1 to the column, as dropout-lint's reports do.
            yield diagnostic.span.line, diagnostic.span.column, f"{diagnostic.code} {diagnostic.message}", type(self)

    def _diagnostics(self) -> Sequence[Diagnostic]:
        if not self.disable_noqa:
            from dropout_lint.engine import lint_source

            return lint_source(self.source, self.filename, self.config)
        from dataclasses import replace

        from dropout_lint.engine import analyse_text, finish

        analysis = replace(analyse_text(self.source, self.filename, self.config, keep_lines=True), noqa=())
        return finish([analysis], self.config)[0].diagnostics
