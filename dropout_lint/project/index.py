"""The project index: every file's summary, joined. Built once per run, after all files
are summarised, and shared by the cross-file rules.

It resolves names through the run's own imports (absolute, relative, and the bare
``from models import Net`` of scripts that sit next to ``models.py``), knows which
classes are torch modules, what each registers, which classes are built as submodules
of others and which are built at top level and trained, evaluated or saved: the root
models.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Optional

from dropout_lint.project.placement import Step, expand, unroll
from dropout_lint.project.summary import (
    ClassSummary,
    FileSummary,
    Flow,
    FlowOp,
    FunctionSummary,
    Instantiation,
    Layer,
)

_MAX_DEPTH = 8
# Torch bases whose own forward is user code: a dropout they hold is only applied by it.
PLAIN_BASES = frozenset(
    {
        "torch.nn.Module",
        "torch.nn.modules.module.Module",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "lightning.pytorch.core.LightningModule",
        "pytorch_lightning.LightningModule",
        "pytorch_lightning.core.LightningModule",
    }
)


@dataclass(frozen=True)
class Located:
    """A summary together with the file it comes from."""

    file: FileSummary
    cls: ClassSummary


class ProjectIndex:
    def __init__(self, files: Sequence[FileSummary]) -> None:
        self.files = list(files)
        self.modules: dict[str, list[FileSummary]] = {}
        self.classes: dict[str, Located] = {}
        self.functions: dict[str, tuple[FileSummary, FunctionSummary]] = {}
        for file in self.files:
            self.modules.setdefault(file.module, []).append(file)
            for cls in file.classes:
                self.classes.setdefault(cls.qualname, Located(file, cls))
                for method in cls.methods:
                    self.functions.setdefault(method.qualname, (file, method))
            for function in file.functions:
                self.functions.setdefault(function.qualname, (file, function))
        self._module_cache: dict[str, bool] = {}
        self.cache: dict[str, object] = {}  # analyses shared by several rules
        # Memos: the rules ask the same questions many times over.
        self._resolved: dict[str, Optional[str]] = {}
        self._imports: dict[int, dict[str, str]] = {id(file): dict(file.imports) for file in self.files}
        self._mro: dict[int, list[ClassSummary]] = {}

    # Names.

    def resolve(self, qualname: Optional[str], depth: int = 0) -> Optional[str]:
        """The qualified name under which a class or function of the run is defined."""
        if qualname is None or depth > _MAX_DEPTH:
            return None
        if qualname in self.classes or qualname in self.functions:
            return qualname
        if depth == 0:
            if qualname not in self._resolved:
                self._resolved[qualname] = self._resolve(qualname, depth)
            return self._resolved[qualname]
        return self._resolve(qualname, depth)

    def _resolve(self, qualname: str, depth: int) -> Optional[str]:
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            for file in self._files_named(".".join(parts[:cut])):
                alias = self._imports[id(file)].get(parts[cut])
                if alias is not None:
                    found = self.resolve(".".join([alias, *parts[cut + 1 :]]), depth + 1)
                    if found is not None:
                        return found
                defined = f"{file.module}.{'.'.join(parts[cut:])}"
                if defined in self.classes or defined in self.functions:
                    return defined
        return None

    def _files_named(self, module: str) -> Sequence[FileSummary]:
        exact = self.modules.get(module)
        if exact:
            return exact
        # A script's `from models import Net` finds `pkg/models.py` when nothing else
        # is called `models` in the run.
        found = self._by_suffix.get(module, ())
        return found if len(found) == 1 else ()

    @cached_property
    def _by_suffix(self) -> dict[str, list[FileSummary]]:
        """The files of each module name's proper dotted suffixes (``b.c`` and ``c`` for
        ``a.b.c``)."""
        out: dict[str, list[FileSummary]] = {}
        for name, files in self.modules.items():
            parts = name.split(".")
            for cut in range(1, len(parts)):
                out.setdefault(".".join(parts[cut:]), []).extend(files)
        return out

    def lookup(self, qualname: Optional[str]) -> Optional[Located]:
        name = self.resolve(qualname)
        return self.classes.get(name) if name is not None else None

    def function(self, qualname: Optional[str]) -> Optional[FunctionSummary]:
        name = self.resolve(qualname)
        found = self.functions.get(name) if name is not None else None
        return found[1] if found is not None else None

    # Classes.

    def bases(self, cls: ClassSummary) -> list[ClassSummary]:
        out = []
        for base in cls.bases:
            located = self.lookup(base)
            if located is not None and located.cls is not cls:
                out.append(located.cls)
        return out

    def mro(self, cls: ClassSummary) -> list[ClassSummary]:
        """The class and its bases in the run, nearest first."""
        cached = self._mro.get(id(cls))
        if cached is None:
            cached = self._mro[id(cls)] = self._linearise(cls)
        return list(cached)

    def _linearise(self, cls: ClassSummary) -> list[ClassSummary]:
        out: list[ClassSummary] = []
        seen: set[int] = set()
        pending = [cls]
        while pending and len(out) < 64:
            current = pending.pop(0)
            if id(current) in seen:
                continue
            seen.add(id(current))
            out.append(current)
            pending.extend(self.bases(current))
        return out

    def is_module(self, cls: ClassSummary) -> bool:
        cached = self._module_cache.get(cls.qualname)
        if cached is not None:
            return cached
        self._module_cache[cls.qualname] = False
        result = cls.module is True or (
            cls.module is None and any(self.is_module(base) for base in self.bases(cls))
        )
        self._module_cache[cls.qualname] = result
        return result

    def external_bases(self, cls: ClassSummary) -> list[Optional[str]]:
        """Bases of the class or its bases in the run that the run does not define."""
        out = []
        for current in self.mro(cls):
            for base in current.bases:
                if self.lookup(base) is None:
                    out.append(base)
        return out

    def layers(self, cls: ClassSummary) -> dict[str, Layer]:
        """Registered layers by attribute, inherited ones included (nearest wins)."""
        out: dict[str, Layer] = {}
        for current in reversed(self.mro(cls)):
            for attr, layer in current.layers:
                out[attr] = layer
        return out

    def forward(self, cls: ClassSummary) -> Optional[Flow]:
        for current in self.mro(cls):
            if current.forward is not None:
                return current.forward
        return None

    def method(self, cls: ClassSummary, name: str) -> Optional[FunctionSummary]:
        for current in self.mro(cls):
            for method in current.methods:
                if method.qualname.rsplit(".", 1)[-1] == name:
                    return method
        return None

    def module_classes(self) -> Iterator[Located]:
        for located in self.classes.values():
            if self.is_module(located.cls):
                yield located

    @cached_property
    def subclasses(self) -> dict[str, list[ClassSummary]]:
        out: dict[str, list[ClassSummary]] = {}
        for located in self.classes.values():
            for base in self.bases(located.cls):
                out.setdefault(base.qualname, []).append(located.cls)
        return out

    # Instantiations.

    def instantiations(self) -> Iterator[tuple[FileSummary, Instantiation, Optional[Located]]]:
        for file in self.files:
            for inst in file.instantiations:
                yield file, inst, self.lookup(inst.target)

    @cached_property
    def submodule_classes(self) -> frozenset[str]:
        """Classes some module builds as one of its parts, directly or through a
        factory function it calls."""
        out: set[str] = set()
        for _, inst, located in self.instantiations():
            if inst.owner is None:
                continue
            if located is not None:
                out.add(located.cls.qualname)
            else:
                out.update(self._built_by(inst.target, 0))
        return frozenset(out)

    def _built_by(self, target: str, depth: int) -> set[str]:
        function = self.function(target)
        if function is None or depth > _MAX_DEPTH:
            return set()
        out: set[str] = set()
        for returned in function.returns:
            located = self.lookup(returned)
            if located is not None:
                out.add(located.cls.qualname)
            else:
                out |= self._built_by(returned, depth + 1)
        return out

    def applications(self, cls: ClassSummary) -> list[FlowOp]:
        """The operations of modules' ``forward`` that apply an instance of ``cls``
        (directly, or an ``nn.Sequential`` holding one)."""
        out = []
        for located in self.module_classes():
            owner = located.cls
            if owner.forward is None:
                continue
            layers = self.layers(owner)
            for op in owner.forward.ops:
                layer = layers.get(op.attr) if op.kind == "attr" and op.attr is not None else None
                for inner in _tree(layer) if layer is not None else ():
                    found = self.lookup(inner.target) if inner.target else None
                    if found is not None and found.cls is cls:
                        out.append(op)
                        break
        return out

    @cached_property
    def root_classes(self) -> list[Located]:
        """Module classes built at top level and trained, evaluated or saved, and never
        built as a part of another module."""
        seen: dict[str, Located] = {}
        for _, inst, located in self.instantiations():
            if located is None or not inst.root or inst.owner is not None:
                continue
            if located.cls.qualname in self.submodule_classes or not self.is_module(located.cls):
                continue
            seen.setdefault(located.cls.qualname, located)
        return list(seen.values())

    def root_sequentials(self) -> Iterator[tuple[FileSummary, Layer]]:
        for file, inst, _ in self.instantiations():
            if inst.root and inst.owner is None and inst.layer is not None and inst.layer.children:
                yield file, inst.layer

    def rate_params(self, cls: ClassSummary, depth: int = 0) -> dict[str, str]:
        """``__init__`` parameters that become a dropout rate, with the layer they reach
        (``Block(drop=0.9)`` reaches ``nn.Dropout(drop)``), followed through classes
        that pass them on unchanged."""
        out: dict[str, str] = {}
        if depth > _MAX_DEPTH:
            return out
        for layer in _all_layers(cls):
            if layer.rate is not None and layer.rate.param is not None:
                out.setdefault(layer.rate.param, f"`{layer.name}({layer.rate.text})` in `{cls.name}`")
        file = self.classes[cls.qualname].file if cls.qualname in self.classes else None
        if file is None:
            return out
        for inst in file.instantiations:
            if inst.owner != cls.qualname:
                continue
            target = self.lookup(inst.target)
            if target is None or target.cls is cls:
                continue
            inner = self.rate_params(target.cls, depth + 1)
            for arg in inst.args:
                bound = bind(target.cls, arg.keyword, arg.position)
                if arg.param is not None and bound in inner:
                    out.setdefault(arg.param, inner[bound])
        return out


def bind(cls: ClassSummary, keyword: Optional[str], position: Optional[int]) -> Optional[str]:
    """The ``__init__`` parameter an argument binds to."""
    if keyword is not None:
        return keyword if any(p.name == keyword for p in cls.params) else None
    for param in cls.params:
        if param.position is not None and param.position == position:
            return param.name
    return None


def _tree(layer: Layer) -> Iterator[Layer]:
    yield layer
    for child in layer.children:
        yield from _tree(child)


def _all_layers(cls: ClassSummary) -> Iterator[Layer]:
    pending = [layer for _, layer in cls.layers]
    while pending:
        layer = pending.pop()
        yield layer
        pending.extend(layer.children)


def class_steps(index: ProjectIndex, cls: ClassSummary) -> Optional[tuple[list[Step], list[Optional[int]]]]:
    """The steps of a class's ``forward`` (its own or inherited) with its layers."""
    flow = index.forward(cls)
    if flow is None:
        return None
    return expand(flow, index.layers(cls))


def step_lists(index: ProjectIndex) -> list[list[Step]]:
    """Every sequence of layers in the run that applies a dropout layer: each module's
    ``forward`` (where the class defines it), each ``nn.Sequential`` a module
    registers, each top-level model ``nn.Sequential``. Built once per run and shared by
    the rules that read it (they ask about the steps around a dropout)."""
    cached = index.cache.get("step_lists")
    if cached is None:
        cached = index.cache["step_lists"] = [s for s in _step_lists(index) if any(step.is_dropout for step in s)]
    return cached  # type: ignore[return-value]


def _step_lists(index: ProjectIndex) -> Iterator[list[Step]]:
    for located in index.module_classes():
        cls = located.cls
        if cls.forward is not None:
            yield used_steps(*expand(cls.forward, index.layers(cls)))
        for _, layer in cls.layers:
            for block in _sequentials(layer):
                yield unroll(block.children)[0]
    for _, layer in index.root_sequentials():
        yield unroll(layer.children)[0]


def used_steps(steps: list[Step], returns: list[Optional[int]]) -> list[Step]:
    """The steps, with those whose result nothing uses (a bare ``self.drop(x)``, which
    DL409 reports) replaced by steps that apply no layer."""
    used = {value for step in steps for value in step.inputs} | set(returns)
    return [step if index in used or not step.is_dropout else replace(step, type=None) for index, step in enumerate(steps)]


def _sequentials(layer: Layer) -> Iterator[Layer]:
    """A registered layer's ``nn.Sequential`` blocks (the layer itself, or the blocks of
    an ``nn.ModuleList``)."""
    kind = layer.type.kind if layer.type is not None else None
    if kind == "sequential" and layer.children:
        yield layer
    elif kind == "module_list":
        for child in layer.children:
            yield from _sequentials(child)
