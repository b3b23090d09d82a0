"""Dropout rates passed from one class to another: ``Block(drop=0.9)`` reaches the
``nn.Dropout(drop)`` in ``Block.__init__``, and a parameter's default decides the rate
only where no instantiation gives the parameter another.

A rate may also be a setting of a parameter (``nn.Dropout(cfg["drop_rate"])``,
``nn.Dropout(config.hidden_dropout_prob)``): each instantiation gives it through the
dict it passes (``GPTModel({"drop_rate": 0.0, ...})``), or passes on a parameter of its
own (``TransformerBlock(cfg)``); a class the run never builds takes the default of its
settings class (``config: SegGptConfig``, ``config_class = SegGptConfig``), unless some
instantiation of that class in the run sets the setting otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

from dropout_lint.analysis.origins import chosen_by_caller
from dropout_lint.project.index import Located, ProjectIndex, bind
from dropout_lint.project.summary import Argument, ClassSummary, Instantiation, Rate, layer_trees

# The values the instantiations seen give each rate parameter: (class, parameter) to
# the values, None for one the run cannot know.
GivenRates = dict[tuple[str, str], set[Optional[float]]]


@dataclass(frozen=True)
class PassedRate:
    argument: Argument
    value: float
    callee: str  # the class built, as named
    reaches: str  # the dropout layer the value ends up in


def passed_rates(index: ProjectIndex) -> list[PassedRate]:
    """Every known number passed to a class parameter that becomes a dropout rate
    (found once per run, and shared by the rules that read them)."""
    return index.shared("passed_rates", lambda: list(_passed_rates(index)))


def _passed_rates(index: ProjectIndex) -> Iterator[PassedRate]:
    known: dict[str, dict[str, str]] = {}  # the rate parameters of each class built
    for _, inst, located in index.instantiations():
        if located is None or inst.star or not index.may_pass_rates(located):
            continue
        params = known.get(located.qualname)
        if params is None:
            params = known[located.qualname] = index.rate_params(located.cls)
        if not params:
            continue
        for arg in inst.args:
            bound = bind(located.cls, arg.keyword, arg.position)
            if bound in params and arg.value is not None:
                yield PassedRate(arg, arg.value, located.cls.name, params[bound])


# The instantiation that built one model object: its class's settings are those it passes,
# whatever other instantiations of the class pass.
Pin = tuple[Located, Instantiation]


def pin_at(index: ProjectIndex, path: str, number: int) -> Optional[Pin]:
    """The instantiation at a place (a file and a node's rank) that passes a dict whose
    keys are all known: the one model object it builds has the settings of that dict."""

    def build() -> dict[tuple[str, int], Pin]:
        return {
            (inst.place.path, inst.place.index): (located, inst)
            for _, inst, located in index.instantiations()
            if located is not None and any(arg.entries is not None for arg in inst.args)
        }

    return index.shared("pins", build).get((path, number))


def rate_value(index: ProjectIndex, rate: Rate, pin: Optional[Pin] = None) -> Optional[float]:
    """The rate a dropout runs with, where the run shows a single one: the value written,
    or for an ``__init__`` parameter the one value every instantiation seen gives it
    (its default where it is not passed, or where no instantiation is seen). None when
    it is not known or differs between instantiations: ``Attn(attn_drop=attn_drop_rate)``
    makes the 0.0 default of ``attn_drop`` no longer the rate. With ``pin``, the rate of
    one model object: the instantiation that built it alone gives its class's settings."""
    if rate.config is not None and rate.key is not None and rate.owner is not None:
        values = setting_values(index, (rate.owner, rate.config, rate.key), pin)
        return next(iter(values)) if values is not None and len(values) == 1 else None
    if rate.param is None or rate.owner is None:
        return rate.value
    if pin is None:
        given = index.shared("given_rates", lambda: _given_rates(index)).get((rate.owner, rate.param))
    else:
        given = _given_pinned(index, rate.owner, rate.param, pin)
    if given is None:
        return rate.value
    return next(iter(given)) if len(given) == 1 else None


def _given_rates(index: ProjectIndex) -> GivenRates:
    out: GivenRates = {}
    for _, inst, located in index.instantiations():
        if located is None or not index.may_pass_rates(located):
            continue
        cls = located.cls
        for param in cls.params:
            out.setdefault((cls.qualname, param.name), set()).update(_given(index, cls, inst, param.name))
    return out


def _given_pinned(index: ProjectIndex, owner: str, param: str, pin: Pin) -> Optional[set[Optional[float]]]:
    built = [pin] if pin[0].qualname == owner else _built(index).get(owner, [])
    out: set[Optional[float]] = set()
    for located, inst in built:
        if index.may_pass_rates(located):
            out |= _given(index, located.cls, inst, param, pin)
    return out or None


def _given(
    index: ProjectIndex, cls: ClassSummary, inst: Instantiation, param: str, pin: Optional[Pin] = None
) -> set[Optional[float]]:
    """The values an instantiation gives a parameter: a caller's own parameter passed on
    is its callers' to choose, so it is not known here; a setting of one
    (``dropout=cfg["drop_rate"]``) is what its callers give that setting."""
    for arg in inst.args:
        if bind(cls, arg.keyword, arg.position) == param:
            if arg.config is not None and arg.key is not None and inst.owner is not None:
                values = setting_values(index, (inst.owner, arg.config, arg.key), pin)
                return {None} if values is None else set(values)
            return {None if arg.param is not None else arg.value}
    if inst.star:
        return {None}
    default = next((p.default for p in cls.params if p.name == param), None)
    return {None if default is None else default.value}


# A setting of an `__init__` parameter: (the class's qualified name, the parameter, the key).
SettingOf = tuple[str, str, str]
Values = Optional[frozenset[Optional[float]]]


def setting_values(index: ProjectIndex, setting: SettingOf, pin: Optional[Pin] = None) -> Values:
    """The values the run gives a setting (``cfg["drop_rate"]`` of ``GPTModel``'s
    ``cfg``): None where some is not known, or where nothing decides it."""
    memo: dict[tuple[SettingOf, Optional[tuple[str, int]]], Values] = index.shared("setting_values", dict)
    key = (setting, None if pin is None else (pin[1].place.path, pin[1].place.index))
    if key not in memo:
        memo[key] = _setting_values(index, setting, set(), pin)
    return memo[key]


def _setting_values(index: ProjectIndex, setting: SettingOf, active: set[SettingOf], pin: Optional[Pin]) -> Values:
    if setting in active or len(active) > _PASSES:
        return None
    owner, param, key = setting
    built = [pin] if pin is not None and pin[0].qualname == owner else _built(index).get(owner)
    if not built:
        return _default_setting(index, owner, param, key)
    active.add(setting)
    out: set[Optional[float]] = set()
    for located, inst in built:
        out |= _setting_given(index, located.cls, inst, param, key, active, pin)
    active.discard(setting)
    return frozenset(out)


def _setting_given(
    index: ProjectIndex,
    cls: ClassSummary,
    inst: Instantiation,
    param: str,
    key: str,
    active: set[SettingOf],
    pin: Optional[Pin],
) -> set[Optional[float]]:
    """The values one instantiation gives ``param[key]``: from the dict it passes, or
    from its caller's setting when it passes on a parameter of its own."""
    for arg in inst.args:
        if bind(cls, arg.keyword, arg.position) != param:
            continue
        if arg.entries is not None:
            return {dict(arg.entries).get(key)}
        if arg.param is not None and inst.owner is not None:
            values = _setting_values(index, (inst.owner, arg.param, key), active, pin)
            return {None} if values is None else set(values)
        return {None}
    return {None}  # a default (None, a dict of the signature) or `**kwargs`: not followed


def _default_setting(index: ProjectIndex, owner: str, param: str, key: str) -> Values:
    """A setting of a class the run never builds: the default its settings class gives
    it, and the values the run's instantiations of that class pass instead. Only for a
    setting no other rate of the run reads: one that several dropouts take is a rate
    users set (a pretrained model's checkpoints often set another than the default)."""
    located = index.lookup(owner)
    settings = _settings_class(index, located, param) if located is not None else None
    if settings is None or _readers(index).get((settings.qualname, key), 0) > 1:
        return None
    default = next((dict(c.settings)[key] for c in index.mro(settings.cls) if key in dict(c.settings)), None)
    if default is None:
        return None
    out: set[Optional[float]] = {default}
    for built, inst in _built(index).get(settings.qualname, ()):
        if inst.star:
            return None
        for arg in inst.args:
            if bind(built.cls, arg.keyword, arg.position) == key:
                out.add(None if arg.param is not None or arg.config is not None else arg.value)
    return frozenset(out)


def _settings_class(index: ProjectIndex, located: Located, param: str) -> Optional[Located]:
    """The settings class of an ``__init__`` parameter: its annotation, or the one the
    class or its bases declare (``config_class = ...``, ``config: ...``)."""
    annotation = next((p.annotation for p in located.cls.params if p.name == param), None)
    declared = annotation or next((c.config_class for c in index.mro(located.cls) if c.config_class is not None), None)
    return index.lookup(declared)


def _readers(index: ProjectIndex) -> dict[tuple[str, str], int]:
    """How many rates and passed arguments of the run read each setting of each
    settings class: (its qualified name, the key) to the count."""

    def build() -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}

        def count(located: Optional[Located], param: Optional[str], key: Optional[str]) -> None:
            settings = _settings_class(index, located, param) if located and param and key else None
            if settings is not None and key is not None:
                out[(settings.qualname, key)] = out.get((settings.qualname, key), 0) + 1

        for located in index.module_classes(having="rates"):
            for layer in layer_trees(located.cls):
                if layer.rate is not None:
                    count(located, layer.rate.config, layer.rate.key)
        for _, inst, _ in index.instantiations():
            for arg in inst.args:
                if arg.config is not None and inst.owner is not None:
                    count(index.lookup(inst.owner), arg.config, arg.key)
        return out

    return index.shared("setting_readers", build)


def _built(index: ProjectIndex) -> dict[str, list[tuple[Located, Instantiation]]]:
    """The instantiations of each class of the run."""

    def build() -> dict[str, list[tuple[Located, Instantiation]]]:
        out: dict[str, list[tuple[Located, Instantiation]]] = {}
        for _, inst, located in index.instantiations():
            if located is not None:
                out.setdefault(located.qualname, []).append((located, inst))
        return out

    return index.shared("built", build)


# An argument of a class, as (the class's qualified name, the parameter).
ArgumentOf = tuple[str, str]
_PASSES = 4  # how many classes deep a value passed on is followed


def values_given(index: ProjectIndex, wanted: set[ArgumentOf]) -> dict[ArgumentOf, Optional[frozenset[Optional[float]]]]:
    """The values every instantiation in the run gives each wanted argument: a number,
    the parameter's default where it is not passed, or None where it is not known;
    followed through callers that pass on an argument of their own (``Block(drop=drop)``
    gives ``Block``'s ``drop`` whatever its callers give ``drop``). A class the run never
    builds maps to None: it is built outside the run, with any value."""
    sources: dict[ArgumentOf, list[Optional[object]]] = {}  # a value, an ArgumentOf, or None
    pending = set(wanted)
    for _ in range(_PASSES):
        if not pending:
            break
        for pair in pending:
            sources[pair] = []
        by_class: dict[str, list[str]] = {}
        for cls, param in pending:
            by_class.setdefault(cls, []).append(param)
        for _, inst, located in index.instantiations():
            if located is None or located.qualname not in by_class:
                continue
            for param in by_class[located.qualname]:
                sources[(located.qualname, param)].append(_source(located.cls, inst, param))
        pending = {
            source
            for found in sources.values()
            for source in found
            if isinstance(source, tuple) and source not in sources
        }
    memo: dict[ArgumentOf, Optional[frozenset[Optional[float]]]] = {}
    return {pair: _values(pair, sources, memo, set()) for pair in wanted}


def _source(cls: ClassSummary, inst: Instantiation, param: str) -> Optional[object]:
    for arg in inst.args:
        if bind(cls, arg.keyword, arg.position) == param:
            if arg.param is not None and inst.owner is not None:
                return (inst.owner, arg.param)
            return None if chosen_by_caller(arg.origin) else arg.value
    if inst.star:
        return None
    default = next((p.default for p in cls.params if p.name == param), None)
    return None if default is None else default.value


def _values(
    pair: ArgumentOf,
    sources: dict[ArgumentOf, list[Optional[object]]],
    memo: dict[ArgumentOf, Optional[frozenset[Optional[float]]]],
    active: set[ArgumentOf],
) -> Optional[frozenset[Optional[float]]]:
    if pair in memo:
        return memo[pair]
    found = sources.get(pair)
    if not found or pair in active:
        return None  # built outside the run (or not followed this far)
    active.add(pair)
    out: set[Optional[float]] = set()
    for source in found:
        if isinstance(source, tuple):
            inner = _values(source, sources, memo, active)
            out |= inner if inner is not None else {None}
        else:
            out.add(source if isinstance(source, float) else None)
    active.discard(pair)
    memo[pair] = frozenset(out)
    return memo[pair]
