from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL104 as RULE
from dropout_lint.project.index import ProjectIndex, layerless_base
from dropout_lint.project.rates import rate_value
from dropout_lint.project.summary import ClassSummary
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
