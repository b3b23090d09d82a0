"""What a cache entry holds, and how it is written: plain values in JSON, never a pickle.

A pickle names the code that runs when it is read, so anyone who can write a cache
folder (a shared ``--cache-dir``, a CI cache restored from another branch or fork) could
run code in the next run. An entry here is

    dropout-lint cache <FORMAT>\\n<sha256 of the payload>\\n<payload>

where the payload is the JSON of the entry's plain values (``plain.Codec``), read back
into the record classes listed below and no others. An entry of another format, whose
payload does not match its digest (cut short, changed by hand), or whose values do not
fit their types, reads as no entry. (The digest finds damage, not intent: whoever can
write the folder can write a valid entry, and so choose the findings it holds, but never
anything that runs.)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Optional

from dropout_lint.diagnostics import Diagnostic, Fix, FixSafety, Severity, Span
from dropout_lint.engine import FileAnalysis, FileResult
from dropout_lint.plain import Codec

FORMAT = 2  # raised whenever the layout of an entry changes (the record classes are in the key)
_HEADER = f"dropout-lint cache {FORMAT}\n".encode()
_DIGEST = 64  # hex digits of a sha256

# Every class an entry may hold: a run's results, or a file's analysis (which also holds
# the summary for the cross-file rules; its modules load only when one is read or written,
# so that a run in which nothing changed does not import them).
_RESULT_CLASSES: tuple[type, ...] = (FileResult, Diagnostic, Span, Fix, Severity, FixSafety)


def _analysis_classes() -> tuple[type, ...]:
    from dropout_lint.analysis.layers import LayerType
    from dropout_lint.noqa import Noqa
    from dropout_lint.notebook import CellProblem, NotebookSource
    from dropout_lint.project import modes_ir, summary

    return (
        *_RESULT_CLASSES,
        FileAnalysis,
        Noqa,
        NotebookSource,
        CellProblem,
        LayerType,
        summary.PackedSummary,
        summary.ClassHead,
        summary.ClassSummary,
        summary.IgnoredArgument,
        summary.FlagUse,
        summary.Rate,
        summary.Layer,
        summary.Dimension,
        summary.FlowOp,
        summary.Flow,
        summary.RandomDrop,
        summary.AttentionRate,
        summary.FunctionSummary,
        summary.Param,
        summary.Argument,
        summary.HelperCall,
        summary.Instantiation,
        modes_ir.ModeFunction,
        modes_ir.SourceKind,
        modes_ir.Source,
        modes_ir.Switch,
        modes_ir.Leaving,
        modes_ir.Bind,
        modes_ir.SwitchMode,
        modes_ir.Touch,
        modes_ir.Save,
        modes_ir.Restore,
        modes_ir.Use,
        modes_ir.Phased,
        modes_ir.MethodCall,
        modes_ir.Call,
        modes_ir.Export,
        modes_ir.Step,
        modes_ir.Branch,
        modes_ir.Loop,
        modes_ir.Scoped,
        modes_ir.Try,
        modes_ir.Inline,
        modes_ir.Leave,
    )


def _codec(classes: tuple[type, ...]) -> Codec:
    return Codec(classes, {cls.__name__: cls for cls in classes})


_CODECS: dict[object, Codec] = {}


def codec(kind: object) -> Codec:
    """The codec for entries of ``kind``: it builds the classes of such an entry only."""
    found = _CODECS.get(kind)
    if found is None:
        found = _CODECS[kind] = _codec(_analysis_classes() if kind is FileAnalysis else _RESULT_CLASSES)
    return found


RunResults = tuple[FileResult, ...]


def dump(value: Any, kind: Any) -> bytes:
    """The entry for a value of type ``kind`` (``FileAnalysis`` or ``RunResults``)."""
    payload = json.dumps(codec(kind).to_plain(value, kind), separators=(",", ":"), ensure_ascii=False).encode()
    return _HEADER + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def load(entry: bytes, kind: Any) -> Optional[Any]:
    """The value of type ``kind`` an entry holds, or None when it holds none."""
    start = len(_HEADER) + _DIGEST + 1
    if not entry.startswith(_HEADER) or entry[start - 1 : start] != b"\n":
        return None
    payload = memoryview(entry)[start:]
    if hashlib.sha256(payload).hexdigest().encode() != entry[len(_HEADER) : start - 1]:
        return None
    try:
        return codec(kind).from_plain(json.loads(bytes(payload)), kind)
    except (ValueError, TypeError, RecursionError):  # json's errors and PlainError are ValueErrors
        return None
