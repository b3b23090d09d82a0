"""What a ``train`` override switches when ``eval()`` calls it as ``train(False)``."""

from __future__ import annotations

import textwrap
from typing import Optional

import libcst as cst
import pytest

from dropout_lint.analysis.mode_override import EvalOutcome, accepts_mode, eval_outcomes


def _method(source: str) -> cst.FunctionDef:
    module = cst.parse_module(textwrap.dedent(source))
    func = module.body[0]
    assert isinstance(func, cst.FunctionDef)
    return func


def _outcomes(body: str, methods: Optional[dict[str, str]] = None) -> Optional[set[EvalOutcome]]:
    method = _method("def train(self, mode=True):\n" + textwrap.indent(textwrap.dedent(body), "    "))
    others = {name: _method(text) for name, text in (methods or {}).items()}
    outcomes = eval_outcomes(method, others)
    return None if outcomes is None else set(outcomes)


def _named(*switched: str, passed_over: tuple[str, ...] = ()) -> EvalOutcome:
    return EvalOutcome(False, frozenset(switched), frozenset(passed_over))


ALL = EvalOutcome(True, frozenset(), frozenset())


def test_super_switches_every_child() -> None:
    outcomes = _outcomes("super().train(mode)\nself.encoder.eval()\nreturn self")
    assert outcomes == {EvalOutcome(True, frozenset({"encoder"}), frozenset())}


def test_each_return_is_an_outcome() -> None:
    body = """\
    self.training = mode
    if self.frozen:
        self.head.train(mode)
        return self
    self.encoder.train(mode)
    self.head.train(mode)
    return self
    """
    assert _outcomes(body) == {_named("head"), _named("encoder", "head")}


def test_a_branch_only_training_takes_is_not_followed() -> None:
    body = """\
    if mode:
        self.training = True
        return self
    return super().train(False)
    """
    assert _outcomes(body) == {ALL}


def test_train_true_is_no_switch_for_eval() -> None:
    assert _outcomes("super().train(True)\nself.head.train(mode)") == {_named("head")}


def test_a_loop_over_children_that_skips_one_by_name() -> None:
    body = """\
    for name, module in self.named_children():
        if self.frozen and name == "encoder":
            continue
        module.train(mode)
    """
    assert _outcomes(body) == {EvalOutcome(True, frozenset(), frozenset({"encoder"}))}


def test_a_loop_that_skips_unnamed_children_is_unknown() -> None:
    body = """\
    for module in self.modules():
        if isinstance(module, nn.Dropout):
            continue
        module.train(mode)
    """
    assert _outcomes(body) == {ALL}


def test_a_loop_over_named_parts() -> None:
    assert _outcomes("for part in [self.encoder, self.head]:\n    part.train(mode)") == {_named("encoder", "head")}


def test_a_helper_that_switches_is_not_followed() -> None:
    helpers = {"_switch": "def _switch(self, mode):\n    self.encoder.train(mode)\n"}
    assert _outcomes("self._switch(mode)", helpers) == {ALL}
    assert _outcomes("self._log(mode)", {"_log": "def _log(self, mode):\n    print(mode)\n"}) == {_named()}


def test_raising_is_no_outcome() -> None:
    assert _outcomes("if not isinstance(mode, bool):\n    raise ValueError(mode)\nsuper().train(mode)") == {ALL}


@pytest.mark.parametrize(
    ("signature", "accepts"),
    [
        ("self, mode=True", True),
        ("self, mode", True),
        ("self, mode: bool = True, *, strict=False", True),
        ("self, *args, **kwargs", True),
        ("self", False),
        ("self, em_phase, loader, optimizer", False),
    ],
)
def test_accepts_mode(signature: str, accepts: bool) -> None:
    assert accepts_mode(_method(f"def train({signature}):\n    pass\n")) is accepts
