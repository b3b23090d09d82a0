"""The dicts of settings an instantiation passes (``analysis.mappings``)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from dropout_lint.analysis.constants import literal_number
from dropout_lint.analysis.mappings import Entries, NameScope, known_entries
from dropout_lint.analysis.structure import ModuleFacts


def _entries(code: str, name: str = "cfg") -> Optional[Entries]:
    module = cst.parse_module(code)
    facts = ModuleFacts(module)

    def number(expr: cst.BaseExpression) -> Optional[float]:
        found = literal_number(expr)
        return None if found is None else float(found)

    return known_entries(cst.Name(name), NameScope((module.body,), facts.constants.get, number))


def test_a_dict_literal_and_an_update_whose_keys_are_known() -> None:
    code = 'cfg = {"drop_rate": 0.0, "emb": 8}\nsizes = {"s": {"emb": 4}, "m": {"emb": 16}}\ncfg.update(sizes[choice])\n'
    assert _entries(code) == {"drop_rate": 0.0, "emb": None}


def test_dict_call_and_item_assignment() -> None:
    assert _entries('cfg = dict(drop_rate=0.1)\ncfg["drop_rate"] = 0.1\n') == {"drop_rate": 0.1}
    assert _entries('cfg = dict(drop_rate=0.0)\ncfg["drop_rate"] = 0.2\n') == {"drop_rate": None}


def test_unknown_changes_make_the_dict_unknown() -> None:
    assert _entries('cfg = {"drop_rate": 0.0}\ncfg.update(load())\n') is None
    assert _entries('cfg = {"drop_rate": 0.0}\ncfg.pop("drop_rate")\n') is None
    assert _entries('cfg = {"drop_rate": 0.0}\ncfg[key] = 0.5\n') is None
    assert _entries('cfg = {**base, "drop_rate": 0.0}\n') is None
    assert _entries("cfg = load()\n") is None


def test_two_bindings_keep_only_what_they_agree_on() -> None:
    code = 'if small:\n    cfg = {"drop_rate": 0.0, "emb": 4}\nelse:\n    cfg = {"drop_rate": 0.0}\n'
    assert _entries(code) == {"drop_rate": 0.0, "emb": None}
