"""Summaries packed for the project index: blobs in memory or spilled to a temporary
file, parts unpickled on demand, and the same findings however few stay unpickled."""

from __future__ import annotations

import gc
import pickle
import shutil
from pathlib import Path

import pytest

from dropout_lint import runner
from dropout_lint.blobs import Blob, SpillFile
from dropout_lint.cache import Cache
from dropout_lint.config import Config
from dropout_lint.engine import analyse_text, finish
from dropout_lint.project import index as index_module
from dropout_lint.project.index import ProjectIndex
from dropout_lint.project.summary import PackedSummary
from dropout_lint.records import share_strings
from dropout_lint.runner import lint_files

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

MODEL = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)


class Net(Base):
    def __init__(self, p=0.1):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.inner = nn.Dropout(p)

    def forward(self, x):
        return self.fc(self.drop(x))


def helper(x):
    return F.dropout(x, 0.2)


class Masker(nn.Module):
    def forward(self, x):
        return x * (torch.rand_like(x) > 0.1)


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.mask = Masker()

    def forward(self, x):
        return helper(self.mask(x))
'''


TRAIN = '''
import torch
from model import Net

model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(3):
    model.train()
    for x in loader:
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()
    with torch.no_grad():
        for x in validation:
            print(model(x))
'''


def _files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if p.suffix in (".py", ".ipynb"))


def test_a_blob_holding_its_object_is_pickled_only_when_asked() -> None:
    value = {"layers": ("fc", "drop"), "rate": 0.5}
    held = Blob.holding(value)
    assert held.load() is value and "not pickled" in repr(held)
    assert pickle.loads(pickle.dumps(held)).load() == value  # sent to a worker: pickled then
    assert held == Blob.of(value)
    spill = SpillFile()
    try:
        other = Blob.holding(("first",))
        other.spill(spill)
        assert "spilled" in repr(other) and other.load() == ("first",)
    finally:
        spill.close()


def test_a_blob_loads_and_pickles_the_same_in_memory_and_spilled() -> None:
    value = {"layers": ("fc", "drop"), "rate": 0.5}
    blob = Blob.of(value)
    assert blob.load() == value
    assert pickle.loads(pickle.dumps(blob)).load() == value
    spill = SpillFile()
    try:
        other = Blob.of(("first",))
        other.spill(spill)
        blob.spill(spill)
        assert "spilled" in repr(blob) and len(blob) > 0
        assert blob.load() == value and other.load() == ("first",)
        copy = pickle.loads(pickle.dumps(blob))  # travels as its bytes
        assert "spilled" not in repr(copy) and copy.load() == value
    finally:
        spill.close()


def test_a_packed_summary_keeps_names_and_flags_and_unpickles_its_parts() -> None:
    analysis = analyse_text(MODEL, "pkg/model.py", Config())
    packed = analysis.summary
    assert isinstance(packed, PackedSummary)
    heads = {head.name: head for head in packed.classes}
    assert set(heads) == {"Base", "Net", "Masker", "Outer"}
    assert heads["Masker"].dropping == ("forward",) and heads["Net"].dropping == ()
    assert heads["Outer"].parts == (f"{packed.module}.Masker",)
    assert heads["Outer"].calls == (f"{packed.module}.helper",)
    assert heads["Base"].registers_dropout and heads["Base"].dropout and not heads["Net"].alpha
    assert heads["Net"].rates  # nn.Dropout(p) from an __init__ parameter
    assert not heads["Base"].rates
    assert heads["Net"].methods == ("__init__", "forward")
    assert packed.functions == ("helper",)
    index = ProjectIndex([packed])
    located = index.lookup(f"{packed.module}.Net")
    assert located is not None and located.cls.name == "Net"
    assert [cls.name for cls in index.mro(located)] == ["Net", "Base"]
    assert set(index.layers(located.cls)) == {"drop", "fc", "inner"}
    masker = index.lookup(f"{packed.module}.Masker")
    assert masker is not None and index.may_drop_at_random(masker) and not index.may_drop_at_random(located)
    helper = index.function(f"{packed.module}.helper")
    assert helper is not None and helper.qualname.endswith(".helper")


def test_findings_are_the_same_when_few_parts_stay_unpickled(monkeypatch: pytest.MonkeyPatch) -> None:
    files = _files(FIXTURES)
    usual = lint_files(files, Config(), jobs=1)
    monkeypatch.setattr(index_module, "_KEEP", 1)
    assert lint_files(files, Config(), jobs=1) == usual


def test_findings_are_the_same_with_summaries_spilled_to_disk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    project = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, project)
    files = _files(project)
    usual = lint_files(files, Config(), jobs=1)
    spilled: list[int] = []
    real = SpillFile.append

    def counting(self: SpillFile, data: bytes) -> int:
        spilled.append(len(data))
        return real(self, data)

    monkeypatch.setattr(SpillFile, "append", counting)
    monkeypatch.setattr(runner, "_SPILL_THRESHOLD", 1)
    cache = Cache(tmp_path / "cache", Config())
    assert lint_files(files, Config(), jobs=1) == usual
    assert spilled  # the summaries did go to the file
    # The cache keeps the spilled summaries' bytes: a later run reads them back, and
    # runs the cross-file rules again over them when one file changed.
    assert lint_files(files, Config(), jobs=1, cache=cache) == usual
    changed = next(path for path in files if path.endswith(".py"))
    with open(changed, "a") as handle:
        handle.write("\n# changed\n")
    again = lint_files(files, Config(), jobs=1, cache=cache)
    assert [r.diagnostics for r in again] == [r.diagnostics for r in usual]


@pytest.mark.parametrize("failing", ["create", "write"])
def test_without_room_for_the_temporary_file_the_summaries_stay_in_memory(
    monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    files = _files(FIXTURES)
    usual = lint_files(files, Config(), jobs=1)
    written: list[int] = []
    real = SpillFile.append

    def append(self: SpillFile, data: bytes) -> int:
        if len(written) >= 3:
            raise OSError(28, "No space left on device")
        written.append(len(data))
        return real(self, data)

    def create(self: SpillFile) -> None:
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(runner, "_SPILL_THRESHOLD", 1)
    monkeypatch.setattr(SpillFile, "append", append)
    if failing == "create":
        monkeypatch.setattr(SpillFile, "__init__", create)
    assert lint_files(files, Config(), jobs=1) == usual
    assert len(written) == (0 if failing == "create" else 3)


def test_sharing_strings_leaves_no_garbage_behind() -> None:
    # A reference cycle is freed only by the garbage collector, which runs rarely while
    # files are linted: a cycle here kept every string of each summary a worker made.
    analysis = analyse_text(MODEL, "model.py", Config())
    gc.collect()
    gc.disable()
    try:
        share_strings(analysis.summary, {})
        share_strings((["a"], {"b": "c"}, frozenset({"d"})))
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_the_cross_file_rules_leave_no_garbage_behind() -> None:
    # The index's caches refer back to it; closed, it is freed by reference counting,
    # before the findings are placed, instead of whenever the collector next runs.
    analyses = [analyse_text(MODEL, "model.py", Config()), analyse_text(TRAIN, "train.py", Config())]
    gc.collect()
    gc.disable()
    try:
        results = finish(analyses, Config())
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert [d.code for d in results[1].diagnostics] == ["DL301"]
