from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from dropout_lint.analysis.constants import ConstantResolver, Scope, literal_number
from dropout_lint.analysis.structure import ModuleFacts


def _resolve_last_call_arg(source: str) -> tuple[object, object] | None:
    """Resolve the first argument of the last call named `use(...)` in the source."""
    module = cst.parse_module(textwrap.dedent(source))
    facts = ModuleFacts(module)
    resolver = ConstantResolver(facts)
    found: list[tuple[cst.Call, cst.FunctionDef | None, cst.ClassDef | None]] = []

    class Finder(cst.CSTVisitor):
        def __init__(self) -> None:
            self.functions: list[cst.FunctionDef] = []
            self.classes: list[cst.ClassDef] = []

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            self.classes.append(node)

        def leave_ClassDef(self, node: cst.ClassDef) -> None:
            self.classes.pop()

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.functions.append(node)

        def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
            self.functions.pop()

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "use":
                found.append(
                    (node, self.functions[-1] if self.functions else None, self.classes[-1] if self.classes else None)
                )

    module.visit(Finder())
    call, function, cls = found[-1]
    info = facts.function(function) if function is not None else None
    cls_info = facts.class_info(cls) if cls is not None and function is not None else None
    resolved = resolver.number(call.args[0].value, Scope(info, cls_info))
    return None if resolved is None else (resolved.value, resolved.origin)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("use(0.5)", (0.5, None)),
        ("use(-0.25)", (-0.25, None)),
        ("use(1)", (1, None)),
        ("use(1 - 0.25)", (0.75, None)),
        ("P = 0.7\nuse(P)", (0.7, "the constant `P`")),
        ("P: float = 0.7\nuse(-P)", (-0.7, "the constant `P`")),
        ("def f(drop=0.9):\n    use(drop)", (0.9, "the default of `drop`")),
        ("def f(keep=0.8):\n    use(1 - keep)", (pytest.approx(0.2), "the default of `keep`")),
        ("def f(*, drop=0.3):\n    use(drop)", (0.3, "the default of `drop`")),
        ("P = 0.4\ndef f(drop=P):\n    use(drop)", (0.4, "the constant `P`")),
        ("def f():\n    rate = 0.6\n    use(rate)", (0.6, None)),
        (
            "class M:\n    RATE = 0.6\n    def forward(self):\n        use(self.RATE)",
            (0.6, "the class attribute `M.RATE`"),
        ),
        (
            "class M:\n    RATE = 0.6\n    def forward(self):\n        use(M.RATE)",
            (0.6, "the class attribute `M.RATE`"),
        ),
        (
            "class M:\n    def __init__(self, p=0.3):\n        self.p = p\n    def forward(self):\n        use(self.p)",
            (0.3, "the default of `p`"),
        ),
        (
            "class M:\n    def __init__(self):\n        self.p = 0.3\n    def forward(self):\n        use(self.p)",
            (0.3, "`self.p` as set in `__init__`"),
        ),
    ],
)
def test_resolves(source: str, expected: tuple[object, object]) -> None:
    assert _resolve_last_call_arg(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "use(config.dropout)",
        "use(x)",
        "def f(drop):\n    use(drop)",
        "def f(drop=None):\n    use(drop)",
        "def f(drop=0.9):\n    drop = drop / 10\n    use(drop)",
        "P = 0.1\nP = 0.9\nuse(P)",
        "P = 0.1\nif flag:\n    P = 0.9\nuse(P)",
        "P = 0.1\ndef P():\n    pass\nuse(P)",
        "for P in (0.1, 0.9):\n    use(P)",
        "P = 0.1\ndef g():\n    global P\n    P = 0.9\nuse(P)",
        "def f():\n    rate = 0.1\n    rate = 0.9\n    use(rate)",
        "use(1 / 0)",
        "use('0.5')",
        "class M:\n    def __init__(self, p):\n        self.p = p\n    def forward(self):\n        use(self.p)",
        "class M:\n    def __init__(self):\n        self.p = 0.1\n    def set(self):\n        self.p = 0.9\n    def forward(self):\n        use(self.p)",
        "import torch\nuse(torch.pi)",
    ],
)
def test_unknown(source: str) -> None:
    assert _resolve_last_call_arg(source) is None


@pytest.mark.parametrize(("text", "value"), [("0.5", 0.5), ("-1", -1), ("+2.0", 2.0), ("1e-1", 0.1)])
def test_literal_number(text: str, value: float) -> None:
    assert literal_number(cst.parse_expression(text)) == value


@pytest.mark.parametrize("text", ["x", "'a'", "True", "None", "-x"])
def test_literal_number_rejects(text: str) -> None:
    assert literal_number(cst.parse_expression(text)) is None
