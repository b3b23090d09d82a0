from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL106 as RULE
from dropout_lint.project.index import ProjectIndex, layerless_base
from dropout_lint.project.place import LINE
from dropout_lint.project.rates import values_given
from dropout_lint.project.summary import ClassSummary, IgnoredArgument
from dropout_lint.rule import ProjectCheck, ProjectFinding


class DropoutArgumentIgnored(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        candidates: list[tuple[ClassSummary, IgnoredArgument]] = []
        for located in self.index.module_classes(having="ignores"):
            cls = located.cls
            descendants = self.index.descendants(cls)
            # A subclass's own constructor takes it: the base only declares the interface.
            taken = {param.name for member in descendants for param in member.params}
            for argument in cls.ignored:
                if argument.name not in taken and not _maybe_read(self.index, cls, descendants, argument):
                    candidates.append((cls, argument))
        if not candidates:
            return
        given = values_given(self.index, {(cls.qualname, argument.name) for cls, argument in candidates})
        for cls, argument in candidates:
            values = given[(cls.qualname, argument.name)]
            if values is not None and values <= {0.0}:
                continue  # 0 wherever the run builds it: nothing is lost
            yield _finding(cls, argument)


def _maybe_read(index: ProjectIndex, cls: ClassSummary, descendants: list[ClassSummary], argument: IgnoredArgument) -> bool:
    """Whether anything may read the attribute that keeps the argument."""
    family = [*index.mro(cls), *descendants]
    if argument.kept:  # `self.hparams.<name>`, `self.config.<name>`
        suffix = f".{argument.name}"
        if any(reach.endswith(suffix) for member in family for reach in member.reaches):
            return True
        if any("hparams" in member.references for member in family if member.qualname != cls.qualname):
            return True  # a base or subclass reads the saved arguments some way
    if not argument.stored:
        return False
    for attr in argument.stored:
        if any(attr in member.references or member.dynamic or attr.startswith(tuple(member.prefixes)) for member in family):
            return True
        if any(f"{part}.{attr}" in member.reaches for holder, part in index.holders(cls) for member in index.mro(holder)):
            return True  # the model reads its part's setting: `self.attn.dropout`
    # Code of a base outside the run may read it (`self.dropout` in a library's forward).
    return not all(layerless_base(base) for base in index.external_bases(cls))


def _finding(cls: ClassSummary, argument: IgnoredArgument) -> ProjectFinding:
    name = argument.name
    if argument.stored:
        attrs = " or ".join(f"`self.{attr}`" for attr in argument.stored)
        return ProjectFinding(
            argument.place,
            f"`{cls.name}` stores its dropout setting `{name}` in {attrs} but nothing reads it; "
            "pass it to its dropout or remove it",
        )
    if argument.literal is not None:
        return ProjectFinding(
            argument.place,
            f"`{cls.name}` ignores its dropout setting `{name}`: `__init__` passes `{argument.literal_text}` "
            f"(line {LINE}) instead; pass `{name}={name}`",
            (argument.literal,),
        )
    return ProjectFinding(
        argument.place,
        f"`{cls.name}` ignores its dropout setting `{name}`: no layer gets it; pass it to its part or remove it",
    )
