"""The compact records summaries are made of (dropout_lint.records)."""

from __future__ import annotations

import pickle
from typing import Optional

from dropout_lint.project.modes_ir import Bind, Branch, ModeFunction, Source, SourceKind, Switch, SwitchMode
from dropout_lint.project.place import Place
from dropout_lint.records import record, share_strings


@record
class Pair:
    left: str
    right: Optional[Pair] = None
    names: tuple[str, ...] = ()


def _fresh(text: str) -> str:
    return "".join(list(text))  # an equal string that is a new object


def test_a_record_pickles_to_an_equal_record_and_hashes_by_value() -> None:
    pair = Pair("a", Pair("b"), ("x", "y"))
    again = pickle.loads(pickle.dumps(pair))
    assert again == pair and again is not pair
    assert hash(again) == hash(pair)
    assert {pair, again} == {pair}
    assert not hasattr(pair, "__dict__")  # slots


def test_share_strings_makes_equal_strings_one_object() -> None:
    inner = Pair(_fresh("self"), names=(_fresh("config"), _fresh("self")))
    outer = Pair(_fresh("self"), inner, (_fresh("config"),))
    assert outer.left is not inner.left
    assert share_strings(outer) is outer
    assert outer.left is inner.left is inner.names[1]
    assert outer.names[0] is inner.names[0]
    assert outer == Pair("self", Pair("self", names=("config", "self")), ("config",))


def test_packed_mode_events_read_back_the_same() -> None:
    events = (
        Bind(_fresh("model"), Source(SourceKind.NEW, "pkg.Net")),
        Branch((SwitchMode(_fresh("model"), Switch.EVAL, Place("a.py", 7), "model.eval()"),)),
    )
    function = ModeFunction("pkg.main", None, (), events)
    packed = function.pack()
    assert packed.events == () and packed.packed
    for packed_again in (packed, pickle.loads(pickle.dumps(packed))):
        body = packed_again.body()
        assert body[0] == events[0]
        branch = body[1]
        assert isinstance(branch, Branch)
        mode = branch.body[0]
        assert isinstance(mode, SwitchMode) and (mode.path, mode.mode) == ("model", Switch.EVAL)
        # Places compare by identity: the copy names the same node of the same file.
        assert mode.place is not None and (mode.place.path, mode.place.index) == ("a.py", 7)
