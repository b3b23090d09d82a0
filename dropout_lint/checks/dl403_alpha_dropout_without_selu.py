from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL403 as RULE
from dropout_lint.project.index import ProjectIndex
from dropout_lint.project.place import Place
from dropout_lint.project.summary import ClassSummary, Layer
from dropout_lint.rule import ProjectCheck, ProjectFinding


_FIX = "use `nn.Dropout`, or SELU activations"


class AlphaDropoutWithoutSelu(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for located in self.index.module_classes(having="alpha"):
            cls = located.cls
            sites = [*_alpha_layers(cls), *((place, "F.alpha_dropout") for place in cls.alpha)]
            if sites and not _model_has_selu(self.index, cls):
                for place, name in sites:
                    yield ProjectFinding(place, f"`{name}` is used in `{cls.name}`, whose model has no SELU; {_FIX}")
        for _, model in self.index.root_sequentials():
            layers = list(_flatten(model.children))
            if not any(_is(layer, "selu") for layer in layers):
                for layer in layers:
                    if _is(layer, "alpha_dropout"):
                        yield ProjectFinding(layer.place, f"`{layer.name}` is used in a model without SELU; {_FIX}")


def _is(layer: Layer, kind: str) -> bool:
    return layer.type is not None and layer.type.kind == kind


def _flatten(layers: tuple[Layer, ...]) -> Iterator[Layer]:
    for layer in layers:
        yield layer
        yield from _flatten(layer.children)


def _alpha_layers(cls: ClassSummary) -> Iterator[tuple[Place, str]]:
    for _, layer in cls.layers:
        for inner in _flatten((layer,)):
            if _is(inner, "alpha_dropout"):
                yield inner.place, inner.name


def _uses_selu(cls: ClassSummary) -> bool:
    return cls.selu or any(_is(inner, "selu") for _, layer in cls.layers for inner in _flatten((layer,)))


def _model_has_selu(index: ProjectIndex, cls: ClassSummary) -> bool:
    """Whether SELU appears anywhere in the model the class belongs to: the class, its
    bases, its parts, and the modules that contain it."""
    seen: set[str] = set()
    pending = [cls]
    while pending and len(seen) < 512:
        current = pending.pop()
        if current.qualname in seen:
            continue
        seen.add(current.qualname)
        if _uses_selu(current):
            return True
        pending.extend(index.bases(current))
        for _, layer in current.layers:
            for inner in _flatten((layer,)):
                part = index.lookup(inner.target) if inner.target else None
                if part is not None:
                    pending.append(part.cls)
        for _, inst, located in index.instantiations():
            if located is not None and located.qualname == current.qualname and inst.owner is not None:
                owner = index.lookup(inst.owner)
                if owner is not None:
                    pending.append(owner.cls)
    return False
