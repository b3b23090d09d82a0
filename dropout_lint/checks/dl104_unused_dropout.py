from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.diagnostics import Severity
from dropout_lint.project.index import ProjectIndex, layerless_base
from dropout_lint.project.summary import ClassSummary
from dropout_lint.rule import ProjectCheck, ProjectFinding, Rule

RULE = Rule(
    code="DL104",
    name="unused-dropout",
    severity=Severity.WARNING,
    summary="A dropout module is registered in `__init__` but `forward` never applies it.",
)


class UnusedDropout(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for located in self.index.module_classes(having="registers_dropout"):
            cls = located.cls
            for attr, layer in cls.layers:
                if layer.type is None or not layer.type.is_dropout:
                    continue
                if layer.rate is not None and layer.rate.value == 0:
                    continue  # a placeholder that never drops
                if _maybe_used(self.index, cls, attr):
                    continue
                yield ProjectFinding(
                    layer.place,
                    f"`self.{attr} = {layer.name}(...)` is registered but `{cls.name}` never applies "
                    f"it: no method reads `self.{attr}`, so this dropout does nothing; apply it in "
                    "`forward`, or remove it if the rate is applied some other way",
                )


def _maybe_used(index: ProjectIndex, cls: ClassSummary, attr: str) -> bool:
    """Whether anything the run shows, or cannot see, may apply ``self.<attr>``."""
    descendants = _descendants(index, cls)
    if index.forward(cls) is None and not any(d.forward is not None for d in descendants):
        return True  # no forward in the run: a class elsewhere applies its layers
    for base in index.external_bases(cls):
        if not layerless_base(base):
            return True  # a base defined elsewhere (or nn.Sequential) may apply it
    family = [*index.mro(cls), *descendants]
    return any(attr in member.references or member.dynamic for member in family)


def _descendants(index: ProjectIndex, cls: ClassSummary) -> list[ClassSummary]:
    names: list[str] = []
    pending = list(index.subclasses.get(cls.qualname, []))
    while pending and len(names) < 256:
        current = pending.pop()
        if current in names:
            continue
        names.append(current)
        pending.extend(index.subclasses.get(current, []))
    return [located.cls for located in map(index.lookup, names) if located is not None]
