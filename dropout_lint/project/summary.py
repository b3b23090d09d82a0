"""Per-file summaries: what the cross-file rules need to know about a file, as plain
picklable data, so that files are parsed once (in parallel) and the project index is
built from summaries alone."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import field
from typing import TYPE_CHECKING, Any, Optional

from dropout_lint.analysis.layers import LayerType
from dropout_lint.blobs import Blob
from dropout_lint.diagnostics import Span
from dropout_lint.project.place import Place
from dropout_lint.records import record

if TYPE_CHECKING:
    import libcst as cst

    from dropout_lint.project.modes_ir import ModeFunction


class Places:
    """Hands out places for nodes of one file, by the rank the traversal gave them."""

    def __init__(self, path: str, numbering: dict[int, int]) -> None:
        self.path = path
        self.numbering = numbering
        self._places: dict[int, Place] = {}

    def of(self, node: cst.CSTNode) -> Place:
        found = self._places.get(id(node))
        if found is None:
            found = self._places[id(node)] = Place(self.path, self.numbering.get(id(node), -1))
        return found


def resolve_places(module: cst.Module, places: Iterable[Place]) -> None:
    """Fill in the line and column of places of one file, from its parsed module."""
    from dropout_lint.analysis.syntax import iter_nodes
    from dropout_lint.positions import locate

    wanted = {place.index: place for place in places if place.index >= 0}
    if not wanted:
        return
    last = max(wanted)
    nodes: dict[int, cst.CSTNode] = {}
    for rank, node in enumerate(iter_nodes(module)):
        if rank in wanted:
            nodes[rank] = node
        if rank >= last:
            break
    spans = locate(module, nodes.values())
    for rank, node in nodes.items():
        span = spans.get(id(node))
        if span is not None:
            wanted[rank].set_span(span)


@record
class Rate:
    """A dropout rate as written: its value when known, or the ``__init__`` parameter
    it comes from (so a value passed by the instantiating class can be followed), or
    the setting of an ``__init__`` parameter it reads (``cfg["drop_rate"]``,
    ``config.hidden_dropout_prob``: ``config`` and ``key``)."""

    text: str
    place: Place
    value: Optional[float] = None  # for a parameter, its default
    origin: Optional[str] = None
    param: Optional[str] = None
    owner: Optional[str] = None  # the class whose ``__init__`` takes ``param`` or ``config``
    config: Optional[str] = None  # the parameter holding the settings: `cfg` of `cfg["drop_rate"]`
    key: Optional[str] = None  # the setting read: `drop_rate`


@record
class Dimension:
    """The dimension a layer factory is given by an ``__init__`` parameter:
    ``Dropout[Dropout.DROPOUT, dropout_dim]`` or ``Conv[Conv.CONV, spatial_dims]``, whose
    torch class (Dropout3d or Dropout2d, Conv3d or Conv2d) the instantiations decide."""

    kind: str  # "dropout", "conv", "batchnorm", "norm", "pool" (analysis.layers.factory_kind)
    dims: Rate  # the parameter (``param``, ``owner``), with its default as ``value``


@record
class Layer:
    """A layer built in ``__init__`` (or inside a top-level ``nn.Sequential``)."""

    name: str  # as written: "nn.Dropout2d", "Block"
    place: Place
    type: Optional[LayerType] = None  # None: not a torch layer
    target: Optional[str] = None  # qualified name of a class that is not torch's
    rate: Optional[Rate] = None
    children: tuple[Layer, ...] = ()
    given: bool = False  # a container of what the caller gives: `nn.ModuleList(encoders)`
    dimension: Optional[Dimension] = None  # a factory's layer of a parameter's dimension (type None)


INPUT = -1  # op inputs below zero are forward's parameters: -1 - index


@record
class FlowOp:
    """One step of ``forward``: a layer, function or method applied to values."""

    callee: str  # "self.fc1", "self.blocks[]", "torch.nn.functional.relu", ".view", "+", "call"
    kind: str  # "attr", "function", "method", "combine", "call"
    inputs: tuple[Optional[int], ...]  # producing op indexes; INPUT - k for parameter k; None unknown
    place: Place
    conditional: bool = False  # not on every path through forward
    gated: bool = False  # under a test of the mode, or after an early exit on one
    type: Optional[LayerType] = None  # for torch functions
    rate: Optional[Rate] = None
    reshape: bool = False  # shape-only: placement looks through it
    attr: Optional[str] = None
    target: Optional[str] = None  # for project functions and methods called from forward


@record
class Flow:
    params: tuple[str, ...]
    ops: tuple[FlowOp, ...]
    returns: tuple[Optional[int], ...]  # the value of each return statement


@record
class RandomDrop:
    """A random draw that drops values or layers (a mask, layer skipping)."""

    place: Place
    text: str


@record
class AttentionRate:
    """A parameter that a function passes on, as it is, as the dropout rate of an
    attention kernel, not under a test of the mode: ``dropout_p`` of
    ``def attend(q, k, v, dropout_p): return F.scaled_dot_product_attention(q, k, v,
    dropout_p=dropout_p)``. The function drops in eval mode whenever its caller passes a
    rate that does not depend on the mode."""

    param: str
    position: Optional[int]  # among the function's positional parameters; None for keyword-only
    kernel: str  # the kernel as written: "F.scaled_dot_product_attention"
    place: Place  # the kernel's call


@record
class FunctionSummary:
    """A free function or method, for rules that follow calls from ``forward``."""

    qualname: str
    params: tuple[str, ...]
    mentions_mode: bool
    drops: tuple[RandomDrop, ...] = ()
    returns: tuple[str, ...] = ()  # what it returns a new instance of (a factory)
    attention: tuple[AttentionRate, ...] = ()  # its parameters it passes to an attention kernel
    # Those of the function it defines and returns (a factory of attention functions).
    returned_attention: tuple[AttentionRate, ...] = ()


@record
class Param:
    name: str
    position: Optional[int]  # None for keyword-only
    default: Optional[Rate] = None
    annotation: Optional[str] = None  # the class it is annotated with, qualified: `config: SegGptConfig`


@record
class IgnoredArgument:
    """A dropout-setting argument of ``__init__`` that ``__init__`` never reads, except
    to keep it on the instance (``stored``): then it is used only if they are read."""

    name: str
    place: Place  # the parameter; for a stored one, the first assignment that keeps it
    stored: tuple[str, ...] = ()  # the attributes that keep it
    literal: Optional[Place] = None  # `Block(p=0.)` in __init__: a number passed instead
    literal_text: Optional[str] = None
    kept: bool = False  # kept under its name by a framework: `self.hparams.<name>`, `self.config.<name>`


@record
class HelperCall:
    """A call, in a method of a module class other than ``__init__`` and not under a test
    of the mode, of a function that may be the run's: by its name
    (``attend(q, k, v, dropout_p=self.dropout)``), or stored on the instance by
    ``__init__``: ``self.attend = make_attention()`` (``made``: the stored value is what
    ``target`` returns) or ``self.attend = attention``, then ``self.attend(...)``."""

    callee: str  # as written: "attend", "self.attend"
    target: str  # the qualified name of the function called or stored, or of the factory
    made: bool
    stored: Optional[str]  # the stored value as written ("make_attention()"); None for a call by name
    self_name: str  # the method's first parameter
    place: Place  # the call
    # Its arguments whose value never depends on the mode (a number other than 0, an
    # attribute that only `__init__` sets), with positions up to the first `*args`.
    fixed: tuple[Argument, ...]


@record
class ClassSummary:
    qualname: str
    name: str
    place: Place
    bases: tuple[Optional[str], ...]
    module: Optional[bool]  # from this file alone: True, False, or None when a base decides
    params: tuple[Param, ...]
    layers: tuple[tuple[str, Layer], ...]
    forward: Optional[Flow]
    methods: tuple[FunctionSummary, ...]
    references: frozenset[str]  # self attributes read anywhere in the class
    dynamic: bool  # getattr(self, name), self.modules() and the like: layers used unseen
    selu: bool
    alpha: tuple[Place, ...]  # alpha dropout applied in methods (functional)
    constructed: tuple[Layer, ...] = ()  # every layer its methods build, registered or not
    modules: frozenset[str] = frozenset()  # self attributes its methods call or give nn.Module methods
    calls: frozenset[str] = frozenset()  # `self.name(...)` called outside initialisation
    inherits: bool = False  # calls `super().name(...)` outside initialisation
    reaches: frozenset[str] = frozenset()  # "embeddings.dropout": a part's attribute it reads
    prefixes: frozenset[str] = frozenset()  # "conv" of `getattr(self, f"conv{i}")`
    ignored: tuple[IgnoredArgument, ...] = ()  # dropout settings `__init__` does not read
    helper_calls: tuple[HelperCall, ...] = ()  # calls of functions that may be the run's
    config_class: Optional[str] = None  # `config_class = BertConfig` or `config: BertConfig` in its body
    # The numbers its attributes default to, as a settings class: class-level fields
    # (`hidden_dropout_prob: float = 0.0`) and `__init__` parameters kept under their name.
    settings: tuple[tuple[str, float], ...] = ()


@record
class Argument:
    keyword: Optional[str]
    position: Optional[int]
    text: str
    place: Place
    value: Optional[float] = None
    origin: Optional[str] = None
    param: Optional[str] = None  # the enclosing __init__ parameter passed on unchanged
    config: Optional[str] = None  # a setting of an __init__ parameter passed on: `cfg["drop_rate"]`
    key: Optional[str] = None
    # Every key of a dict passed, with its number (None: not a known number); None when
    # the argument is no dict whose keys are all known.
    entries: Optional[tuple[tuple[str, Optional[float]], ...]] = None


@record
class Instantiation:
    """A call that builds a class: a project class, or a torch ``nn.Sequential`` model."""

    target: str
    place: Place
    owner: Optional[str]  # the class whose method builds it (a submodule), else None
    args: tuple[Argument, ...]
    star: bool
    root: bool  # handed to an optimizer, a loss, a training loop or torch.save
    layer: Optional[Layer] = None  # for nn.Sequential


@record
class FlagUse:
    """Dropout switched by a flag of the code's own (``self.is_training``, a global)."""

    flag: str
    kind: str  # "attr" or "global"
    owner: str  # the class (for attributes) or the module (for globals)
    place: Place
    text: str


@record
class FileSummary:
    path: str
    module: str
    imports: tuple[tuple[str, str], ...]
    classes: tuple[ClassSummary, ...]
    functions: tuple[FunctionSummary, ...]
    instantiations: tuple[Instantiation, ...]
    modes: tuple[ModeFunction, ...] = ()
    flag_uses: tuple[FlagUse, ...] = ()
    switched: frozenset[str] = frozenset()  # attributes set outside __init__, globals reassigned
    stars: tuple[str, ...] = ()  # the modules it imports `*` from

    def pack(self) -> PackedSummary:
        """The summary as the project index keeps it (see ``PackedSummary``)."""
        prefix = len(self.module) + 1
        # The classes that pass one of their __init__ parameters on to a part they build.
        passing = {
            inst.owner for inst in self.instantiations if any(arg.param is not None or arg.config is not None for arg in inst.args)
        }
        classes = tuple(_class_head(cls, cls.qualname[prefix:], cls.qualname in passing) for cls in self.classes)
        return PackedSummary(
            self.path,
            self.module,
            classes,
            tuple(function.qualname[prefix:] for function in self.functions),
            self.flag_uses,
            self.switched,
            tuple(function.qualname[prefix:] for function in self.functions if _drops(function)),
            dict(self.imports),
            Blob.of(self.functions),
            Blob.of(self.instantiations),
            Blob.of(self.modes),
            stars=self.stars,
            returned=tuple(dict.fromkeys(name for function in self.functions for name in function.returns)),
        )


def _class_head(cls: ClassSummary, name: str, passes_parameters: bool) -> ClassHead:
    return ClassHead(
        name,
        cls.bases,
        cls.module,
        tuple(method.qualname.rsplit(".", 1)[-1] for method in cls.methods),
        Blob.of(cls),
        registers_dropout=any(layer.type is not None and layer.type.is_dropout for _, layer in cls.layers),
        dropout=_applies_dropout(cls),
        alpha=bool(cls.alpha) or any(_is_kind(layer, "alpha_dropout") for layer in layer_trees(cls)),
        rates=passes_parameters
        or any(layer.rate is not None and (layer.rate.param or layer.rate.config) is not None for layer in layer_trees(cls)),
        dropping=tuple(method.qualname.rsplit(".", 1)[-1] for method in cls.methods if _drops(method)),
        calls=tuple(op.target for op in cls.forward.ops if op.kind == "function" and op.target is not None)
        if cls.forward is not None
        else (),
        parts=tuple({layer.target: None for layer in layer_trees(cls) if layer.target is not None}),
        ignores=bool(cls.ignored),
        dimensions=any(layer.dimension is not None for layer in layer_trees(cls)),
        helper_calls=bool(cls.helper_calls),
    )


def _drops(function: FunctionSummary) -> bool:
    """Whether the function draws at random to drop, without consulting the mode."""
    return bool(function.drops) and not function.mentions_mode


def layer_trees(cls: ClassSummary) -> Iterable[Layer]:
    """Every layer the class registers, those inside blocks included."""
    pending = [layer for _, layer in cls.layers]
    while pending:
        layer = pending.pop()
        yield layer
        pending.extend(layer.children)


def _is_kind(layer: Layer, kind: str) -> bool:
    return layer.type is not None and layer.type.kind == kind


def _applies_dropout(cls: ClassSummary) -> bool:
    """Whether the class registers a dropout layer (in a block or not), or its
    ``forward`` applies dropout as a function."""
    if any(layer.type is not None and layer.type.is_dropout for layer in layer_trees(cls)):
        return True
    return cls.forward is not None and any(op.type is not None and op.type.is_dropout for op in cls.forward.ops)


@record
class ClassHead:
    """What the project index needs of a class to resolve names, walk bases and pick
    the classes a rule reads; the class's summary itself is in ``data``."""

    name: str  # the qualified name without the module's: "Net", "Outer.Inner"
    bases: tuple[Optional[str], ...]
    module: Optional[bool]
    methods: tuple[str, ...]  # their names
    data: Blob[ClassSummary] = field(compare=False, hash=False)
    registers_dropout: bool = False  # a dropout layer among its attributes
    dropout: bool = False  # a dropout layer anywhere in its layers, or applied in forward
    alpha: bool = False  # alpha dropout, as a layer or a function
    rates: bool = False  # a rate from an __init__ parameter, or a parameter passed on to a part
    dropping: tuple[str, ...] = ()  # methods that drop at random without consulting the mode
    calls: tuple[str, ...] = ()  # the functions of the run its forward calls, as named
    parts: tuple[str, ...] = ()  # the classes its layers are instances of, as named
    ignores: bool = False  # `__init__` does not read a dropout setting it takes
    dimensions: bool = False  # a layer factory given the dimension by an `__init__` parameter
    helper_calls: bool = False  # calls a function that may be the run's with a value fixed in eval


@record
class PackedSummary:
    """A file's summary as the project index holds it: the names it defines and
    imports, and the rest pickled (``Blob``), each class on its own.

    A run's cross-file rules read the summary of every file, but never all at once; kept
    as objects, the summaries of a large project took about 50 KB a file, and the
    memory of a run grew with the project. The index unpickles a part when a rule asks
    for it and keeps the last few (``ProjectIndex``); in a large run the pickles wait
    in a temporary file (``blobs.SpillFile``).
    """

    path: str
    module: str
    classes: tuple[ClassHead, ...]
    functions: tuple[str, ...]  # the free functions' names, in the summary's order
    flag_uses: tuple[FlagUse, ...]
    switched: frozenset[str]
    dropping: tuple[str, ...]  # free functions that drop at random without consulting the mode
    imports: dict[str, str] = field(compare=False, hash=False)  # name -> what it imports
    function_data: Blob[tuple[FunctionSummary, ...]] = field(compare=False, hash=False)
    instantiation_data: Blob[tuple[Instantiation, ...]] = field(compare=False, hash=False)
    mode_data: Blob[tuple[ModeFunction, ...]] = field(compare=False, hash=False)
    # Where the places that findings reported lie, by rank: filled in after the
    # cross-file rules ran, and cached with the summary, so that the next run need not
    # parse the file again to place them (see phases.cross_file._place).
    spans: dict[int, Span] = field(default_factory=dict, compare=False, hash=False)
    stars: tuple[str, ...] = ()  # the modules it imports `*` from: a package re-exports their names
    returned: tuple[str, ...] = ()  # what its free functions return new instances of (factories)

    def blobs(self) -> Iterator[Blob[Any]]:
        yield from (cls.data for cls in self.classes)
        yield from (self.function_data, self.instantiation_data, self.mode_data)
