from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from dropout_lint.catalog import DL408 as RULE
from dropout_lint.project.index import ProjectIndex
from dropout_lint.project.place import LINE
from dropout_lint.project.summary import ClassSummary, FunctionSummary
from dropout_lint.rule import ProjectCheck, ProjectFinding


class CustomDropoutIgnoresMode(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        roots = {located.qualname for located in self.index.root_classes}
        for located in self.index.module_classes():
            if not self.index.may_drop_at_random(located):
                continue
            cls = located.cls
            forward = _own(cls, "forward")
            if forward is None or cls.forward is None or forward.mentions_mode:
                continue
            if not self._drops_anything(cls, forward):
                continue
            # Only a model or a part of one; and not a part that every owner applies under
            # a test of the mode (`if self.training: x = self.masker(x)`). Augmentation
            # modules built outside models are not reported.
            if cls.qualname not in roots and cls.qualname not in self.index.submodule_classes:
                continue
            applications = self.index.applications(cls)
            if applications and all(op.gated for op in applications):
                continue
            for drop in forward.drops:
                yield ProjectFinding(
                    drop.place,
                    f"`{cls.name}.forward` drops at random in eval mode too: `{drop.text}` is not gated "
                    "on `self.training`",
                )
            for op in cls.forward.ops:
                helper = self._helper(cls, op.kind, op.attr, op.target)
                if helper is None or helper.mentions_mode or not helper.drops:
                    continue
                drop = helper.drops[0]
                where = f"line {LINE}" if drop.place.path == op.place.path else f"{drop.place.path}:{LINE}"
                yield ProjectFinding(
                    op.place,
                    f"`{op.callee}` drops at random in eval mode too: neither it nor `{cls.name}.forward` "
                    f"gates `{drop.text}` ({where}) on `self.training`",
                    (drop.place,),
                )

    def _drops_anything(self, cls: ClassSummary, forward: FunctionSummary) -> bool:
        if forward.drops:
            return True
        assert cls.forward is not None
        for op in cls.forward.ops:
            helper = self._helper(cls, op.kind, op.attr, op.target)
            if helper is not None and helper.drops and not helper.mentions_mode:
                return True
        return False

    def _helper(
        self, cls: ClassSummary, kind: str, attr: Optional[str], target: Optional[str]
    ) -> Optional[FunctionSummary]:
        if kind == "attr" and attr is not None and attr not in self.index.layers(cls):
            return _method(self.index, cls, attr)
        if kind == "function" and target is not None:
            return self.index.function(target)
        return None


def _own(cls: ClassSummary, name: str) -> Optional[FunctionSummary]:
    for method in cls.methods:
        if method.qualname.rsplit(".", 1)[-1] == name:
            return method
    return None


def _method(index: ProjectIndex, cls: ClassSummary, name: str) -> Optional[FunctionSummary]:
    return None if name == "forward" else index.method(cls, name)
