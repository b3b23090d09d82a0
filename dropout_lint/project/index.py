"""The project index: every file's summary, joined. Built once per run, after all files
are summarised, and shared by the cross-file rules.

Files are told apart by their module (``project.identity``: root and dotted name), so
files of one name in different folders keep their own classes and functions. It resolves
names through the run's own imports (absolute, relative, the bare ``from models import
Net`` of scripts that sit next to ``models.py``, and the names a package re-exports with
``from .types import *`` in its ``__init__``): a rooted name finds the file at its
place, a plain one any file of that dotted name (or suffix) that defines it, unless
several do. It knows which classes are torch modules, what each registers, which classes
are built as submodules of others and which are built at top level and trained,
evaluated or saved: the root models.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import cached_property
from typing import TYPE_CHECKING, Generic, Optional, Protocol, TypeVar

from dropout_lint.blobs import Blob
from dropout_lint.project.identity import NOTEBOOK, TAG, is_rooted, plain
from dropout_lint.project.placement import Step, expand, unroll
from dropout_lint.project.summary import (
    ClassHead,
    ClassSummary,
    Flow,
    FlowOp,
    FunctionSummary,
    Instantiation,
    Layer,
    PackedSummary,
    layer_trees,
)

if TYPE_CHECKING:
    from dropout_lint.project.modes_ir import ModeFunction

_MAX_DEPTH = 8
_MAX_NAMES = 256  # the names one lookup may try
_KEEP = 64  # the parts of this many files stay unpickled at a time (classes: eight times as many)
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
# Standard-library modules whose classes appear as bases of torch modules (abstract base
# classes, generics, protocols, enums): they build no layers and apply none.
_STDLIB_BASE_MODULES = frozenset({"abc", "typing", "typing_extensions", "enum", "collections", "dataclasses", "builtins"})


def _package(file: PackedSummary) -> str:
    """The package a file belongs to: its own name for a package's ``__init__``, the
    root's token for a module outside any package."""
    return file.module if file.path.endswith("__init__.py") else file.module.rpartition(".")[0]


def _root(file: PackedSummary) -> str:
    """The folder a file's module is imported from (see ``identity.identify``)."""
    folder, filename = os.path.split(os.path.abspath(file.path))
    dotted = plain(file.module)
    stem = os.path.splitext(filename)[0]
    levels = dotted.count(".") + 1 if stem == "__init__" else dotted[: len(dotted) - len(stem)].count(".")
    for _ in range(levels):
        folder = os.path.dirname(folder)
    return folder


def layerless_base(name: Optional[str]) -> bool:
    """Whether an external base is known to build and apply no layers of its own:
    ``nn.Module``, a LightningModule, or a standard-library class such as ``abc.ABC``.
    ``None`` (a base the run cannot resolve) may hold anything."""
    if name is None:
        return False
    return name in PLAIN_BASES or name == "object" or name.split(".", 1)[0] in _STDLIB_BASE_MODULES


class Named(Protocol):
    @property
    def qualname(self) -> str: ...


class Located:
    """A class of the run, found by name: its summary is unpickled when first read."""

    __slots__ = ("_index", "_where", "qualname", "_cls")

    def __init__(self, index: ProjectIndex, where: tuple[int, int], qualname: str) -> None:
        self._index = index
        self._where = where
        self.qualname = qualname
        self._cls: Optional[ClassSummary] = None

    @property
    def cls(self) -> ClassSummary:
        if self._cls is None:
            self._cls = self._index.class_at(self._where)
        return self._cls


T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


class _Recent(Generic[K, V]):
    """The last few parts unpickled, by key."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, blob: Blob[V]) -> V:
        found = self._items.get(key)
        if found is None:
            found = self._items[key] = blob.load()
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(key)
        return found


class ProjectIndex:
    """The run's names, and its files' summaries unpacked when a rule asks for them.

    The index keeps each file packed (``PackedSummary``): the names it defines and
    imports, which is all that resolving a name, walking bases or telling modules from
    other classes needs, and the rest pickled. A rule that reads a class's layers or
    ``forward``, or a file's instantiations, gets them unpickled then; the last few
    stay, the others go, so the memory of a run does not grow with the project.
    Classes are told apart by qualified name (a class unpickled again is a new object).
    """

    def __init__(self, files: Sequence[PackedSummary], keep: Optional[int] = None) -> None:
        self.files = list(files)
        self.modules: dict[str, list[int]] = {}  # each file's own name (see identity) -> files
        self._dotted: dict[str, list[int]] = {}  # the name Python imports it by -> files
        self._classes: dict[str, tuple[int, int]] = {}  # qualname -> (file, position)
        # Free functions, and the methods of a class defined twice that the first
        # definition lacks, by qualified name: (file, position).
        self._functions: dict[str, tuple[int, int, int]] = {}  # (file, class or -1, position)
        for number, file in enumerate(self.files):
            self.modules.setdefault(file.module, []).append(number)
            if not file.module.endswith(NOTEBOOK):
                self._dotted.setdefault(plain(file.module), []).append(number)
            for position, head in enumerate(file.classes):
                qualname = f"{file.module}.{head.name}"
                first = self._classes.setdefault(qualname, (number, position))
                if first != (number, position):
                    known = self._head(first).methods
                    for rank, name in enumerate(head.methods):
                        if name not in known:
                            self._functions.setdefault(f"{qualname}.{name}", (number, position, rank))
            for rank, name in enumerate(file.functions):
                self._functions.setdefault(f"{file.module}.{name}", (number, -1, rank))
        keep = _KEEP if keep is None else keep  # files' parts; classes eight times as many
        self._classes_read: _Recent[tuple[int, int], ClassSummary] = _Recent(keep * 8)
        self._functions_read: _Recent[int, tuple[FunctionSummary, ...]] = _Recent(keep)
        self._instantiations_read: _Recent[int, tuple[Instantiation, ...]] = _Recent(keep)
        self._modes_read: _Recent[int, tuple[ModeFunction, ...]] = _Recent(keep)
        self._shared: dict[str, object] = {}  # analyses shared by several rules (see shared)
        # Memos: the rules ask the same questions many times over.
        self._module_cache: dict[str, bool] = {}
        self._resolved: dict[str, Optional[str]] = {}
        self._cuts = 0  # lookups cut short by a cycle or the limit (see _resolve)
        self._exported: dict[str, Optional[frozenset[str]]] = {}
        self._mro: dict[str, tuple[str, ...]] = {}

    def close(self) -> None:
        """Let go of everything the index holds; it cannot be used afterwards.

        What it caches refers back to it (a ``Located`` knows its index), a reference
        cycle that only the garbage collector frees, and during a run it collects rarely
        (see ``runner._few_collections``): until then the index, and the summaries it
        last unpickled, kept their memory while the findings were placed."""
        self.__dict__.clear()

    def shared(self, name: str, build: Callable[[], T]) -> T:
        """The analysis called ``name``, built by ``build`` on the first call of the run
        and shared by every rule that asks for it afterwards."""
        if name not in self._shared:
            self._shared[name] = build()
        return self._shared[name]  # type: ignore[return-value]

    # Files.

    def instantiations_in(self, number: int) -> tuple[Instantiation, ...]:
        """The instantiations of the file ``files[number]``."""
        return self._instantiations_read.get(number, self.files[number].instantiation_data)

    def modes_in(self, number: int) -> tuple[ModeFunction, ...]:
        """The functions of the file ``files[number]``, for the mode analysis."""
        return self._modes_read.get(number, self.files[number].mode_data)

    # Names.

    def resolve(self, qualname: Optional[str]) -> Optional[str]:
        """The qualified name under which a class or function of the run is defined."""
        if qualname is None:
            return None
        if qualname in self._classes or self._function_at(qualname) is not None:
            return qualname
        if qualname not in self._resolved:
            self._resolved[qualname] = self._resolve(qualname, set())
        return self._resolved[qualname]

    def _resolve(self, qualname: str, seen: set[str]) -> Optional[str]:
        """``resolve``, through imports, aliases and star imports. ``seen`` holds the
        names this lookup has tried: one tried again is in progress further up (a cycle of
        imports) or has failed, since a success ends the lookup. Results are kept across
        lookups, except a failure that such a cut may have caused."""
        if qualname in self._classes or self._function_at(qualname) is not None:
            return qualname
        if qualname in self._resolved:
            return self._resolved[qualname]
        if qualname in seen or len(seen) > _MAX_NAMES:
            self._cuts += 1
            return None
        seen.add(qualname)
        cuts = self._cuts
        found = self._search(qualname, seen)
        if found is not None or self._cuts == cuts:
            self._resolved[qualname] = found
        return found

    def _search(self, qualname: str, seen: set[str]) -> Optional[str]:
        parts = qualname.split(".")
        named = False  # whether a file of the run is named by a prefix of the name
        for cut in range(len(parts) - 1, 0, -1):
            found = None
            for number in self._files_named(".".join(parts[:cut])):
                named = True
                candidate = self._search_file(self.files[number], parts[cut:], qualname, seen)
                if candidate is not None and found is not None and candidate != found:
                    return None  # files of one name define it differently: ambiguous
                found = found or candidate
            if found is not None:
                return found
        if named or not is_rooted(qualname):
            return None
        # No module of the run at that place: a namespace package's module (its own
        # root is further down), or whatever else Python finds by that name.
        return self._search_below(parts, seen) or self._resolve(plain(qualname), seen)

    def _search_file(self, file: PackedSummary, rest: Sequence[str], qualname: str, seen: set[str]) -> Optional[str]:
        """The name ``rest`` (``Net``, ``sub.Net``) in the module of ``file``: what it
        imports by that name, defines, or imports with ``*``. (``qualname`` is the name
        searched: an import that leads to a longer form of it leads nowhere, as in
        ``from .auto_docstring import auto_docstring`` when the run lacks that module.)"""
        alias = file.imports.get(rest[0])
        if alias is not None:
            longer = qualname + "."
            target = ".".join([alias, *rest[1:]])
            found = self._resolve(target, seen) if not target.startswith(longer) else None
            if found is None:
                # Python 2's implicit relative import: `from seq2seq import
                # Seq2seq` inside the package `seq2seq.models` is its sibling.
                package = _package(file)
                written = plain(alias)
                sibling = f"{package}.{written.split('.', 1)[0]}"
                target = ".".join([package, written, *rest[1:]])
                if sibling in self.modules and not alias.startswith(sibling) and not target.startswith(longer):
                    found = self._resolve(target, seen)
            if found is not None:
                return found
        defined = f"{file.module}.{'.'.join(rest)}"
        if defined in self._classes or self._function_at(defined) is not None:
            return defined
        for star in file.stars:  # `from .neural_type import *` in a package's __init__
            if star not in self.modules and plain(star) not in self._dotted:
                continue  # (a module outside the run re-exports nothing it can see)
            exported = self._exports(star)
            if exported is not None and rest[0] not in exported:
                continue
            found = self._resolve(".".join([star, *rest]), seen)
            if found is not None:
                return found
        return None

    def _exports(self, module: str) -> Optional[frozenset[str]]:
        """Every name that ``from module import *`` can bring, or None when that cannot be
        told: what the module's files define and import, its submodules, and the same of
        the modules they import ``*`` from, in turn. A package that star-imports hundreds
        of modules (transformers) is searched only where the name can be."""
        if module in self._exported:
            return self._exported[module]
        names: set[str] = set()
        known = True
        reached, waiting = {module}, [module]
        while waiting and known:
            current = waiting.pop()
            for number in self.modules.get(current, ()):
                file = self.files[number]
                names.update(head.name for head in file.classes)
                names.update(file.functions)
                names.update(file.imports)
                for star in file.stars:
                    if star in self.modules:
                        if star not in reached:
                            reached.add(star)
                            waiting.append(star)
                    elif plain(star) in self._dotted:
                        known = False  # (reached by another way of naming it)
            names.update(self._submodules.get(current, ()))
        found = frozenset(names) if known else None
        self._exported[module] = found
        return found

    @cached_property
    def _submodules(self) -> dict[str, set[str]]:
        """The names of each module's submodules in the run."""
        below: dict[str, set[str]] = {}
        for module in self.modules:
            parent, _, name = module.rpartition(".")
            while parent:
                below.setdefault(parent, set()).add(name)
                parent, _, name = parent.rpartition(".")
        return below

    def _search_below(self, parts: Sequence[str], seen: set[str]) -> Optional[str]:
        """A rooted name in the roots below its own: ``@root.a.b.Net`` is ``b.Net`` of
        the root ``a`` (a folder without ``__init__.py``), or ``Net`` of the root
        ``a/b``."""
        if parts[0] not in self._nested:
            return None
        for cut in range(2, len(parts)):
            below = self._nested[parts[0]].get(".".join(parts[1:cut]))
            if below is not None:
                found = self._resolve(".".join([below, *parts[cut:]]), seen)
                if found is not None:
                    return found
        return None

    @cached_property
    def _nested(self) -> dict[str, dict[str, str]]:
        """For each root of the run's files that holds others further down, those
        roots' tokens by their dotted path from it: ``{"@a": {"b.c": "@c"}}`` for the
        roots ``a`` and ``a/b/c``."""
        roots = {file.module.partition(".")[0]: _root(file) for file in self.files}
        tokens = {folder: name for name, folder in roots.items()}
        out: dict[str, dict[str, str]] = {}
        for name, folder in roots.items():
            above, below = os.path.split(folder)
            path = [below]
            while below:
                if above in tokens:
                    out.setdefault(tokens[above], {})[".".join(reversed(path))] = name
                above, below = os.path.split(above)
                path.append(below)
        return out

    def _files_named(self, module: str) -> Sequence[int]:
        own = self.modules.get(module)  # (the run's modules are all rooted)
        if own is not None or module.startswith(TAG):
            return own or ()
        exact = self._dotted.get(module)
        if exact:
            return exact
        # A script's `from models import Net` finds `pkg/models.py` when nothing else
        # is called `models` in the run.
        found = self._by_suffix.get(module, -1)
        return (found,) if found >= 0 else ()

    @cached_property
    def _by_suffix(self) -> dict[str, int]:
        """The file of each module name's proper dotted suffixes (``b.c`` and ``c`` for
        ``a.b.c``), or -1 where several files have it."""
        out: dict[str, int] = {}
        for name, numbers in self._dotted.items():
            parts = name.split(".")
            for cut in range(1, len(parts)):
                suffix = ".".join(parts[cut:])
                out[suffix] = numbers[0] if suffix not in out and len(numbers) == 1 else -1
        return out

    def _function_at(self, qualname: str) -> Optional[tuple[int, int, int]]:
        owner, _, name = qualname.rpartition(".")
        where = self._classes.get(owner)
        if where is not None:
            methods = self._head(where).methods
            if name in methods:
                return (where[0], where[1], methods.index(name))
        return self._functions.get(qualname)

    def _head(self, where: tuple[int, int]) -> ClassHead:
        return self.files[where[0]].classes[where[1]]

    def class_at(self, where: tuple[int, int]) -> ClassSummary:
        """The summary of ``files[file].classes[position]``, unpickled."""
        return self._classes_read.get(where, self._head(where).data)

    def file_of_class(self, qualname: str) -> Optional[int]:
        """The number of the file that defines the run's class ``qualname``."""
        where = self._classes.get(qualname)
        return where[0] if where is not None else None

    def _class_name(self, qualname: Optional[str]) -> Optional[str]:
        """The qualified name of the run's class that a name refers to."""
        name = self.resolve(qualname)
        return name if name is not None and name in self._classes else None

    def lookup(self, qualname: Optional[str]) -> Optional[Located]:
        name = self._class_name(qualname)
        return Located(self, self._classes[name], name) if name is not None else None

    def function(self, qualname: Optional[str]) -> Optional[FunctionSummary]:
        name = self.resolve(qualname)
        where = self._function_at(name) if name is not None else None
        if where is None:
            return None
        if where[1] < 0:
            return self._functions_read.get(where[0], self.files[where[0]].function_data)[where[2]]
        return self.class_at((where[0], where[1])).methods[where[2]]

    # Classes.

    def bases(self, cls: ClassSummary) -> list[ClassSummary]:
        return [self.class_at(self._classes[name]) for name in self._base_names(cls.qualname, cls.bases)]

    def _base_names(self, qualname: str, bases: Sequence[Optional[str]]) -> list[str]:
        out = []
        for base in bases:
            name = self._class_name(base)
            if name is not None and name != qualname:
                out.append(name)
        return out

    def mro(self, cls: Named) -> list[ClassSummary]:
        """The class and its bases in the run, nearest first."""
        return [self.class_at(self._classes[name]) for name in self._mro_names(cls.qualname)]

    def mro_names(self, cls: Named) -> tuple[str, ...]:
        """The qualified names of ``mro(cls)``."""
        return self._mro_names(cls.qualname)

    def _mro_names(self, qualname: str) -> tuple[str, ...]:
        cached = self._mro.get(qualname)
        if cached is None:
            cached = self._mro[qualname] = self._linearise(qualname)
        return cached

    def _linearise(self, qualname: str) -> tuple[str, ...]:
        out: list[str] = []
        seen: set[str] = set()
        pending = [qualname]
        while pending and len(out) < 64:
            current = pending.pop(0)
            if current in seen:
                continue
            seen.add(current)
            out.append(current)
            pending.extend(self._base_names(current, self._head(self._classes[current]).bases))
        return tuple(out)

    def is_module(self, cls: Named) -> bool:
        return self._is_module(cls.qualname)

    def _is_module(self, qualname: str) -> bool:
        cached = self._module_cache.get(qualname)
        if cached is not None:
            return cached
        self._module_cache[qualname] = False
        head = self._head(self._classes[qualname])
        result = head.module is True or (
            head.module is None and any(self._is_module(base) for base in self._base_names(qualname, head.bases))
        )
        self._module_cache[qualname] = result
        return result

    def external_bases(self, cls: Named) -> list[Optional[str]]:
        """Bases of the class or its bases in the run that the run does not define, by
        their plain names (a local copy of a library is that library)."""
        out = []
        for current in self._mro_names(cls.qualname):
            for base in self._head(self._classes[current]).bases:
                if self._class_name(base) is None:
                    out.append(None if base is None else plain(base))
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

    def module_classes(self, having: Optional[str] = None) -> Iterator[Located]:
        """The run's torch module classes; with ``having``, only those whose
        ``ClassHead`` has that flag set (``"registers_dropout"``, ``"alpha"``)."""
        for qualname, where in self._classes.items():
            if (having is None or getattr(self._head(where), having)) and self._is_module(qualname):
                yield Located(self, where, qualname)

    def may_apply_dropout(self, cls: Named) -> bool:
        """Whether the class or one of its bases in the run has a dropout layer or
        applies dropout in ``forward`` (else no step of its ``forward`` is a dropout)."""
        return any(self._head(self._classes[name]).dropout for name in self._mro_names(cls.qualname))

    def may_drop_at_random(self, cls: Named) -> bool:
        """Whether the class's ``forward``, or a method or function it calls, may drop
        at random without consulting the mode (else it does not)."""
        if not self._droppers:
            return False
        if any(self._head(self._classes[name]).dropping for name in self._mro_names(cls.qualname)):
            return True
        return any(self.resolve(target) in self._droppers for target in self._head(self._classes[cls.qualname]).calls)

    @cached_property
    def _droppers(self) -> frozenset[str]:
        """The qualified names of the functions and methods that drop at random without
        consulting the mode."""
        out: set[str] = set()
        for file in self.files:
            out.update(f"{file.module}.{name}" for name in file.dropping)
            for head in file.classes:
                out.update(f"{file.module}.{head.name}.{name}" for name in head.dropping)
        return frozenset(out)

    def may_pass_rates(self, cls: Named) -> bool:
        """Whether ``rate_params`` may find anything for the class (else it is empty)."""
        where = self._classes.get(cls.qualname)
        return where is not None and self._head(where).rates

    @cached_property
    def subclasses(self) -> dict[str, list[str]]:
        """The qualified names of each class's subclasses in the run."""
        out: dict[str, list[str]] = {}
        for qualname, where in self._classes.items():
            for base in self._base_names(qualname, self._head(where).bases):
                out.setdefault(base, []).append(qualname)
        return out

    def descendants(self, cls: Named) -> list[ClassSummary]:
        """The class's subclasses in the run, and theirs (at most 256)."""
        names: list[str] = []
        pending = list(self.subclasses.get(cls.qualname, []))
        while pending and len(names) < 256:
            current = pending.pop()
            if current in names:
                continue
            names.append(current)
            pending.extend(self.subclasses.get(current, []))
        return [self.class_at(self._classes[name]) for name in names]

    # Instantiations.

    def instantiations(self) -> Iterator[tuple[PackedSummary, Instantiation, Optional[Located]]]:
        for number, file in enumerate(self.files):
            for inst in self.instantiations_in(number):
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
                out.add(located.qualname)
            else:
                out.update(self._built_by(inst.target, 0))
        return frozenset(out)

    def _built_by(self, target: str, depth: int) -> set[str]:
        function = self.function(target)
        if function is None or depth > _MAX_DEPTH:
            return set()
        out: set[str] = set()
        for returned in function.returns:
            name = self._class_name(returned)
            if name is not None:
                out.add(name)
            else:
                out |= self._built_by(returned, depth + 1)
        return out

    def applications(self, cls: ClassSummary) -> list[FlowOp]:
        """The operations of modules' ``forward`` that apply an instance of ``cls``
        (directly, or an ``nn.Sequential`` holding one)."""
        out = []
        for located in self.module_classes():
            if not self._may_hold(located.qualname, cls.qualname):
                continue
            owner = located.cls
            if owner.forward is None:
                continue
            layers = self.layers(owner)
            for op in owner.forward.ops:
                layer = layers.get(op.attr) if op.kind == "attr" and op.attr is not None else None
                for inner in _tree(layer) if layer is not None else ():
                    if inner.target and self._class_name(inner.target) == cls.qualname:
                        out.append(op)
                        break
        return out

    def holders(self, cls: ClassSummary) -> Iterator[tuple[ClassSummary, str]]:
        """The module classes that register an instance of ``cls`` as a part, with the
        attribute they keep it in."""
        for located in self.module_classes():
            if not self._may_hold(located.qualname, cls.qualname):
                continue
            for attr, layer in self.layers(located.cls).items():
                if any(inner.target and self._class_name(inner.target) == cls.qualname for inner in _tree(layer)):
                    yield located.cls, attr

    def _may_hold(self, owner: str, part: str) -> bool:
        """Whether the class or one of its bases registers a layer of class ``part``."""
        return any(
            self._class_name(target) == part
            for name in self._mro_names(owner)
            for target in self._head(self._classes[name]).parts
        )

    @cached_property
    def root_classes(self) -> list[Located]:
        """Module classes built at top level and trained, evaluated or saved, or returned
        by a factory function (``def build(): return Net()``), and never built as a part
        of another module."""
        seen: dict[str, Located] = {}
        for _, inst, located in self.instantiations():
            if located is None or not inst.root or inst.owner is not None:
                continue
            if located.qualname in self.submodule_classes or not self._is_module(located.qualname):
                continue
            seen.setdefault(located.qualname, located)
        for qualname in self._factory_built:
            if qualname not in self.submodule_classes and self._is_module(qualname):
                seen.setdefault(qualname, Located(self, self._classes[qualname], qualname))
        return list(seen.values())

    @cached_property
    def _factory_built(self) -> list[str]:
        """The classes that module-level factory functions return new instances of."""
        out: dict[str, None] = {}
        for file in self.files:
            for returned in file.returned:
                name = self._class_name(returned)
                for built in [name] if name is not None else sorted(self._built_by(returned, 0)):
                    out.setdefault(built)
        return list(out)

    def root_sequentials(self) -> list[tuple[PackedSummary, Layer]]:
        """``nn.Sequential`` models built at top level and trained, evaluated or saved."""
        return self._root_sequentials

    @cached_property
    def _root_sequentials(self) -> list[tuple[PackedSummary, Layer]]:
        return [
            (file, inst.layer)
            for number, file in enumerate(self.files)
            for inst in self.instantiations_in(number)
            if inst.root and inst.owner is None and inst.layer is not None and inst.layer.children
        ]

    @cached_property
    def free_sequentials(self) -> list[Layer]:
        """Every ``nn.Sequential`` built outside a class, trained or not: the blocks that
        helper functions (``def conv_block(cin, cout): return nn.Sequential(...)``) build."""
        return [
            inst.layer
            for number in range(len(self.files))
            for inst in self.instantiations_in(number)
            if inst.owner is None and inst.layer is not None and inst.layer.children
        ]

    def rate_params(self, cls: ClassSummary, depth: int = 0) -> dict[str, str]:
        """``__init__`` parameters that become a dropout rate, with the layer they reach
        (``Block(drop=0.9)`` reaches ``nn.Dropout(drop)``), followed through classes
        that pass them on unchanged."""
        out: dict[str, str] = {}
        if depth > _MAX_DEPTH:
            return out
        for layer in layer_trees(cls):
            if layer.rate is not None and layer.rate.param is not None:
                out.setdefault(layer.rate.param, f"`{layer.name}({layer.rate.text})` in `{cls.name}`")
        where = self._classes.get(cls.qualname)
        if where is None:
            return out
        for inst in self.instantiations_in(where[0]):
            if inst.owner != cls.qualname:
                continue
            target = self.lookup(inst.target)
            if target is None or target.cls.qualname == cls.qualname:
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


def class_steps(index: ProjectIndex, cls: ClassSummary) -> Optional[tuple[list[Step], list[Optional[int]]]]:
    """The steps of a class's ``forward`` (its own or inherited) with its layers."""
    flow = index.forward(cls)
    if flow is None:
        return None
    return expand(flow, index.layers(cls))


def step_lists(index: ProjectIndex) -> list[list[Step]]:
    """Every sequence of layers in the run that applies a dropout layer: each module's
    ``forward`` (where the class defines it), each ``nn.Sequential`` a module
    registers, each ``nn.Sequential`` built outside a class (a model, or a block a
    helper function returns). Built once per run and shared by the rules that read it
    (they ask about the steps around a dropout, and read neither ``Step.layer`` nor
    ``Step.op``)."""
    # Kept without the layers and operations the steps were made from, which the rules
    # do not read: they would keep the classes they come from in memory.
    return index.shared(
        "step_lists",
        lambda: [
            [replace(step, layer=None, op=None) for step in steps]
            for steps in _step_lists(index)
            if any(step.is_dropout for step in steps)
        ],
    )


def _step_lists(index: ProjectIndex) -> Iterator[list[Step]]:
    for located in index.module_classes():
        if not index.may_apply_dropout(located):
            continue  # no step of its forward or blocks is a dropout
        cls = located.cls
        if cls.forward is not None:
            yield used_steps(*expand(cls.forward, index.layers(cls)))
        for _, layer in cls.layers:
            for block in _sequentials(layer):
                yield unroll(block.children)[0]
    for layer in index.free_sequentials:
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
