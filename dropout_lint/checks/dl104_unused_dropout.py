from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL104 as RULE
from dropout_lint.project.index import ProjectIndex, bind, layerless_base
from dropout_lint.project.rates import rate_value
from dropout_lint.project.summary import ClassSummary, Instantiation, Rate
from dropout_lint.rule import ProjectCheck, ProjectFinding


class UnusedDropout(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for located in self.index.module_classes(having="registers_dropout"):
            cls = located.cls
            for attr, layer in cls.layers:
                if layer.type is None or not layer.type.is_dropout:
                    continue
                if layer.rate is not None and rate_value(self.index, layer.rate) == 0:
                    continue  # a placeholder that never drops
                if _maybe_used(self.index, cls, attr):
                    continue
                if layer.rate is not None and _rate_applied_by_part(self.index, cls, layer.rate, 0):
                    continue  # a leftover: the same rate drops inside the parts it builds
                yield ProjectFinding(
                    layer.place,
                    f"`self.{attr} = {layer.name}(...)` is never applied: no method of `{cls.name}` "
                    "reads it; apply it in `forward` or remove it",
                )


def _maybe_used(index: ProjectIndex, cls: ClassSummary, attr: str) -> bool:
    """Whether anything the run shows, or cannot see, may apply ``self.<attr>``."""
    descendants = index.descendants(cls)
    family = [*index.mro(cls), *descendants]
    if any(attr in member.references or member.dynamic or attr.startswith(tuple(member.prefixes)) for member in family):
        return True
    if any(f"{part}.{attr}" in member.reaches for holder, part in index.holders(cls) for member in index.mro(holder)):
        return True  # the model applies its part's layer: `self.embeddings.dropout(x)`
    layers = {name for member in family for name, _ in member.layers}
    no_forward = index.forward(cls) is None and not any(d.forward is not None for d in descendants)
    if no_forward and not any(member.calls & layers for member in family):
        return True  # a base applying none of its layers: subclasses outside the run do
    bases = [base for base in index.external_bases(cls) if not layerless_base(base)]
    if not bases:
        return False
    if any(base is not None and base.startswith("torch.") for base in bases):
        return True  # nn.Sequential, nn.TransformerEncoderLayer: torch's own code applies it
    if no_forward:
        return True  # the forward that runs is the base's, outside the run
    # Code of a base outside the run runs only where the family calls it.
    known = layers | {method.qualname.rsplit(".", 1)[-1] for member in family for method in member.methods}
    return any(member.inherits or not member.calls <= known for member in family)


_MAX_DEPTH = 3


def _rate_applied_by_part(index: ProjectIndex, cls: ClassSummary, rate: Rate, depth: int) -> bool:
    """Whether the rate (an ``__init__`` parameter, or an attribute of one: ``dropout``,
    ``config.dropout``) is handed to a part the class builds that applies a dropout with
    it: XLNet's layer passes ``config`` to attention and feed-forward parts that drop
    with ``config.dropout``, so its own unapplied ``nn.Dropout(config.dropout)`` loses
    no regularisation."""
    root, dot, rest = rate.text.partition(".")
    if depth >= _MAX_DEPTH or not root.isidentifier() or all(p.name != root for p in cls.params):
        return False
    for inst, part in _built_by(index).get(cls.qualname, ()):
        for arg in inst.args:
            if arg.text == root:
                suffix = f"{dot}{rest}"
            elif arg.text == rate.text:
                suffix = ""
            else:
                continue
            param = bind(part, arg.keyword, arg.position)
            if param is not None and _applies(index, part, f"{param}{suffix}", depth):
                return True
    return False


def _applies(index: ProjectIndex, part: ClassSummary, text: str, depth: int) -> bool:
    """Whether the part applies a dropout whose rate is written ``text``, or hands it on
    to a part of its own that does."""
    for member in index.mro(part):
        for attr, layer in member.layers:
            if layer.type is None or not layer.type.is_dropout or layer.rate is None or layer.rate.text != text:
                continue
            if _maybe_used(index, part, attr) or _rate_applied_by_part(index, member, layer.rate, depth + 1):
                return True
    return False


def _built_by(index: ProjectIndex) -> dict[str, list[tuple[Instantiation, ClassSummary]]]:
    """The project classes each class builds, with the call that builds them."""

    def build() -> dict[str, list[tuple[Instantiation, ClassSummary]]]:
        out: dict[str, list[tuple[Instantiation, ClassSummary]]] = {}
        for _, inst, located in index.instantiations():
            if inst.owner is not None and located is not None and not inst.star:
                out.setdefault(inst.owner, []).append((inst, located.cls))
        return out

    return index.shared("classes_built_by", build)
