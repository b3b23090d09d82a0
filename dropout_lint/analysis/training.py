"""Whether code respects the train/eval mode: gating of dropout on ``self.training``.

A call counts as respecting the mode when its flag or rate mentions the mode, when it
sits under a test of the mode, or after an early exit on such a test. The words that
count as the mode are deliberately broad (``training``, ``is_train``, ``deterministic``,
``inference``...): the rules built on this stay silent unless the code shows no sign
of handling the mode at all.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Container, Iterator, Sequence
from typing import Optional

import libcst as cst

from dropout_lint.analysis.constants import literal_number
from dropout_lint.analysis.structure import ClassInfo, FunctionInfo, ModuleFacts
from dropout_lint.analysis.syntax import (
    Statement,
    block_statements,
    children,
    dotted_name,
    enclosing_tests,
    function_body,
    identifiers,
    is_self_attribute,
    iter_nodes,
    iter_statements,
    push_children,
    target_names,
)
from dropout_lint.analysis.vocabulary import (
    DEVICE_MOVES,
    EXPORTED_RESULTS,
    LOOP_METRIC_WORDS,
    MODE_SWITCHES,
    MODE_WORD,
    OPTIMISER_NAME,
    PARAMETER_NAME,
    PHASE_STRING,
    PHASE_WORD,
    SHAPE_ATTRIBUTES,
    SYNTHETIC_TENSORS,
    UNTRACKED_RESULTS,
)
from dropout_lint.records import record

_OPAQUE = frozenset({cst.Lambda, cst.SimpleString, cst.FormattedString})  # no mode read inside


def mentions_mode(expr: cst.CSTNode) -> bool:
    """Whether an expression reads something that names the train/eval mode."""
    stack: list[cst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if type(node) is cst.Name:
            if MODE_WORD.search(node.value):
                return True
        elif type(node) is cst.Attribute:
            if MODE_WORD.search(node.attr.value):
                return True
            stack.append(node.value)
        elif type(node) in _OPAQUE:
            continue
        else:
            push_children(stack, node)
    return False


def _is_exit(stmt: cst.CSTNode) -> bool:
    if type(stmt) is cst.SimpleStatementLine:
        return any(isinstance(s, (cst.Return, cst.Raise)) for s in stmt.body)
    return False


def _has_mode_exit(stmt: cst.CSTNode) -> bool:
    """``if not self.training: return x`` and the like."""
    if type(stmt) is not cst.If or not mentions_mode(stmt.test):
        return False
    body = stmt.body
    statements: Sequence[cst.CSTNode] = body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else ()
    return any(_is_exit(s) or isinstance(s, (cst.Return, cst.Raise)) for s in statements)


def guarded_by_mode(ancestors: Sequence[cst.CSTNode], node: cst.CSTNode) -> bool:
    """Whether ``node`` (whose ancestors are given, outermost first) runs under a test
    of the mode within its function, or after an early exit on one."""
    if any(mentions_mode(test) for test in enclosing_tests(ancestors, node)):
        return True
    path = [*ancestors, node]
    for i in range(len(path) - 2, -1, -1):
        ancestor, child = path[i], path[i + 1]
        if type(ancestor) is cst.BooleanOperation:
            if ancestor.right is child and mentions_mode(ancestor.left):
                return True
        elif type(ancestor) is cst.FunctionDef:
            statement = path[i + 2] if i + 2 < len(path) else None
            return statement is not None and _after_mode_exit(ancestor, statement)
    return False


def boolean_operands(test: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The truth values a test combines with ``and``/``or``/``not``; ``flag == True``
    and ``flag is False`` test ``flag``."""
    if type(test) is cst.BooleanOperation:
        yield from boolean_operands(test.left)
        yield from boolean_operands(test.right)
    elif type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        yield from boolean_operands(test.expression)
    elif _compared_to_bool(test):
        assert type(test) is cst.Comparison
        yield from boolean_operands(test.left)
    else:
        yield test


def _compared_to_bool(test: cst.BaseExpression) -> bool:
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    operator = (cst.Equal, cst.NotEqual, cst.Is, cst.IsNot)
    return isinstance(target.operator, operator) and type(target.comparator) is cst.Name and target.comparator.value in ("True", "False")


def tests_caller_flag(test: cst.BaseExpression, function: FunctionInfo, ignored: set[str]) -> bool:
    """Whether a test reads, as a truth value, a flag the function received from its
    caller (deepchem's ``x, dropout_switch = inputs; if dropout_switch: ...``).

    Names in ``ignored`` (those the guarded call itself uses, such as its rate) do not
    count: ``if p: F.dropout(x, p)`` tests the rate, not the mode.
    """
    for operand in boolean_operands(test):
        if type(operand) is not cst.Name or operand.value in ignored:
            continue
        if operand.value in function.params or operand.value in function.bindings:
            return True
    return False


def _after_mode_exit(func: cst.FunctionDef, statement: cst.CSTNode) -> bool:
    for stmt in function_body(func):
        if stmt is statement:
            return False
        if _has_mode_exit(stmt):
            return True
    return False


class Gating(enum.Enum):
    GATED = "gated"
    UNGATED = "ungated"
    UNKNOWN = "unknown"


class GatingAnalysis:
    """Decides whether a dropout rate expression is switched off outside training."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts

    def rate(
        self,
        expr: cst.BaseExpression,
        function: Optional[FunctionInfo],
        cls: Optional[ClassInfo],
        depth: int = 0,
    ) -> Gating:
        if depth > 4:
            return Gating.UNKNOWN
        if mentions_mode(expr):
            return Gating.GATED
        number = literal_number(expr)
        if number is not None:
            return Gating.GATED if number == 0 else Gating.UNGATED
        if type(expr) is cst.Attribute:
            return self._attribute(expr, function, cls)
        if type(expr) is cst.Name:
            return self._name(expr.value, function, cls, depth)
        return Gating.UNKNOWN

    def _attribute(
        self, expr: cst.Attribute, function: Optional[FunctionInfo], cls: Optional[ClassInfo]
    ) -> Gating:
        root: cst.BaseExpression = expr
        while type(root) is cst.Attribute and type(root.value) is cst.Attribute:
            root = root.value
        self_name = function.self_name if function is not None else None
        attr = is_self_attribute(root, self_name) if self_name else None
        if attr is None or cls is None:
            return Gating.UNKNOWN
        for binding in cls.self_bindings.get(attr, ()):
            if binding.method is not None and binding.method.name.value in MODE_SWITCHES:
                return Gating.GATED
            if any(mentions_mode(g) for g in binding.guards):
                return Gating.GATED
            if binding.value is not None and mentions_mode(binding.value):
                return Gating.GATED
        return Gating.UNGATED

    def _name(
        self, name: str, function: Optional[FunctionInfo], cls: Optional[ClassInfo], depth: int
    ) -> Gating:
        if function is None:
            return Gating.UNKNOWN
        if name in function.params:
            return Gating.UNKNOWN
        bindings = function.bindings.get(name)
        if not bindings:
            value = self.facts.constant(name)
            if value is not None and literal_number(value) is not None:
                return self.rate(value, None, None, depth + 1)
            return Gating.UNKNOWN
        results = []
        for binding in bindings:
            if any(mentions_mode(g) for g in binding.guards):
                return Gating.GATED
            if binding.value is None:
                return Gating.UNKNOWN
            results.append(self.rate(binding.value, function, cls, depth + 1))
        if Gating.GATED in results:
            return Gating.GATED
        if all(r is Gating.UNGATED for r in results):
            return Gating.UNGATED
        return Gating.UNKNOWN




def is_training_step(node: cst.CSTNode) -> bool:
    """``loss.backward()``, ``scaler.scale(loss).backward()``, ``accelerator.backward(loss)``
    or ``optimizer.step()``."""
    if type(node) is not cst.Call or type(node.func) is not cst.Attribute:
        return False
    method = node.func.attr.value
    if method == "backward":
        return True
    receiver = dotted_name(node.func.value)
    return method == "step" and receiver is not None and bool(OPTIMISER_NAME.search(receiver))




def picks_phase(test: cst.BaseExpression) -> bool:
    """Whether a test picks between training and evaluation: ``if is_train:``,
    ``if phase == "train":``, ``if self.training:``."""
    if mentions_mode(test):
        return True
    for node in iter_nodes(test):
        if type(node) is cst.Name and PHASE_WORD.search(node.value):
            return True
        if type(node) is cst.Attribute and PHASE_WORD.search(node.attr.value):
            return True
        if type(node) is cst.SimpleString and PHASE_STRING.search(node.value):
            return True
    return False


def _takes_step(node: cst.CSTNode) -> bool:
    """Whether ``node`` takes a training step that does not depend on a phase test: the
    loop of a ``for phase in ("train", "val")`` epoch also evaluates."""
    stack = [node]
    while stack:
        current = stack.pop()
        if is_training_step(current):
            return True
        if type(current) is cst.If and picks_phase(current.test):
            continue
        push_children(stack, current)
    return False


def training_loops(root: cst.CSTNode) -> set[int]:
    """The loops under ``root`` (by id) whose body takes a training step on every pass
    (not only when a phase test says so)."""
    out: set[int] = set()
    # Loops are statements: only the statements need looking at, not every expression.
    body: Sequence[Statement]
    if type(root) is cst.Module:
        body = root.body
    elif isinstance(root, cst.BaseSuite):
        body = block_statements(root)
    elif isinstance(root, (cst.BaseStatement, cst.BaseSmallStatement)):
        body = (root,)
    else:
        body = ()
    for node in iter_statements(body, into_definitions=True):
        if (type(node) is cst.For or type(node) is cst.While) and _takes_step(node.body):
            out.add(id(node))
    return out


class StepUse(enum.Enum):
    """What a statement inside a training loop does with a model it runs."""

    TRAINS = "trains"  # its result is back-propagated: a training step
    EVALUATES = "evaluates"  # its result feeds only predictions or metrics
    OTHER = "other"  # sampling, logging, a teacher's targets under no_grad...


@record
class LossFlow:
    """The statements of one training loop, by what they do (ids of small statements).
    ``visible`` is false when the loop back-propagates nowhere in its own body (the
    backward pass is in a helper): then every forward pass in it counts as training."""

    trains: frozenset[int]
    evaluates: frozenset[int]
    visible: bool

    def use(self, statement: Optional[int]) -> StepUse:
        if not self.visible:
            return StepUse.TRAINS
        if statement in self.trains:
            return StepUse.TRAINS
        return StepUse.EVALUATES if statement in self.evaluates else StepUse.OTHER




def _reads(node: cst.CSTNode) -> set[str]:
    """The names and attribute chains an expression reads, with every prefix
    (``out.logits``: out, out.logits); nothing under ``.detach()`` and the like."""
    out: set[str] = set()
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        kind = type(current)
        if kind is cst.Call and type(current.func) is cst.Attribute and current.func.attr.value in UNTRACKED_RESULTS:  # type: ignore[attr-defined]
            continue
        if kind is cst.Name or kind is cst.Attribute:
            name = dotted_name(current)  # type: ignore[arg-type]
            if name is not None:
                parts = name.split(".")
                out.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
                continue
        if kind is cst.Lambda or kind is cst.FunctionDef:
            continue
        push_children(stack, current)
    return out


def _targets(small: cst.BaseSmallStatement) -> set[str]:
    if type(small) is cst.Assign:
        out: set[str] = set()
        for target in small.targets:
            out.update(_target_keys(target.target))
        return out
    if isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        return _target_keys(small.target)
    return set()


def _target_keys(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, (cst.Tuple, cst.List)):
        return {key for element in target.elements for key in _target_keys(element.value)}
    if type(target) is cst.StarredElement:
        return _target_keys(target.value)
    if type(target) is cst.Subscript:
        return _target_keys(target.value)
    name = dotted_name(target)
    return {name} if name is not None else set()


def _backward_roots(small: cst.BaseSmallStatement) -> Optional[set[str]]:
    """What a statement back-propagates: ``loss`` of ``loss.backward()``,
    ``accelerator.backward(loss)``, ``scaler.scale(loss).backward()`` (None: nothing)."""
    roots: Optional[set[str]] = None
    for node in iter_nodes(small):
        if type(node) is not cst.Call or type(node.func) is not cst.Attribute or node.func.attr.value != "backward":
            continue
        roots = roots or set()
        roots |= _reads(node.func.value)
        for arg in node.args:
            roots |= _reads(arg.value)
    return roots


def _untracked(value: Optional[cst.BaseExpression]) -> bool:
    """``teacher(x).detach()``: a result no gradient flows through (a target, not a step
    and not an evaluation)."""
    return type(value) is cst.Call and type(value.func) is cst.Attribute and value.func.attr.value in UNTRACKED_RESULTS


def _detached(value: Optional[cst.BaseExpression]) -> bool:
    return type(value) is cst.Call and type(value.func) is cst.Attribute and value.func.attr.value == "detach"


def loss_flow(loop: cst.For | cst.While) -> LossFlow:
    """Which statements of a training loop feed the loss that is back-propagated (a
    training step, as SPEC.md defines it), and which of the others feed predictions or
    metrics only (an evaluation inside the loop): ``G.eval(); samples = G(z); G.train()``
    takes no training step, ``acc = (model(test_x).argmax(1) == test_y).float().mean()``
    evaluates."""
    smalls: list[tuple[cst.BaseSmallStatement, set[str], Optional[cst.BaseExpression]]] = []
    for stmt in iter_statements(block_statements(loop.body)):
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                value = getattr(small, "value", None)
                smalls.append((small, _targets(small), value if isinstance(value, cst.BaseExpression) else None))
    trains: set[int] = set()
    tainted: set[str] = set()
    for small, _, _ in smalls:
        roots = _backward_roots(small)
        if roots is not None:
            trains.add(id(small))
            tainted |= roots
    visible = bool(trains)
    changed = visible
    while changed:
        changed = False
        for small, targets, value in smalls:
            if id(small) in trains or value is None or not targets & tainted:
                continue
            if _untracked(value):
                continue  # `t = teacher(x).detach()`: no gradient reaches the teacher
            trains.add(id(small))
            tainted |= _reads(value)
            changed = True
    evaluates: set[int] = set()
    metric_reads: set[str] = set()
    # `real_pred = discriminator(real_imgs).detach()`: a target for another model's step.
    smalls = [(small, targets, value) for small, targets, value in smalls if not _detached(value)]
    for small, targets, value in smalls:
        if id(small) not in trains and value is not None and (
            any(LOOP_METRIC_WORDS.search(t) for t in targets) or any(LOOP_METRIC_WORDS.search(n) for n in identifiers(value))
        ):
            evaluates.add(id(small))
            metric_reads |= _reads(value)
    for small, targets, value in smalls:
        if id(small) not in trains and value is not None and targets & metric_reads:
            evaluates.add(id(small))
    return LossFlow(frozenset(trains), frozenset(evaluates), visible)




def optimised_models(
    roots: Sequence[cst.CSTNode], qualify: Callable[[cst.BaseExpression], Optional[str]]
) -> Optional[frozenset[str]]:
    """The models whose parameters the optimizers built under ``roots`` hold
    (``Adam(generator.parameters())``: ``generator``); the empty set when they are given
    tensors only (``optim.LBFGS([input_img])``: style transfer, adversarial examples);
    None when no optimizer is built there, or one is given parameters that cannot be
    told apart (``SGD(params)``). A frozen network the loss runs through (a VGG feature
    extractor for a perceptual loss) takes no training step of its own."""
    models: set[str] = set()
    found = False
    for node in (node for root in roots for node in iter_nodes(root)):
        if type(node) is not cst.Call or not isinstance(node.func, (cst.Name, cst.Attribute)):
            continue
        qualname = qualify(node.func) or ""
        if not qualname.startswith("torch.optim.") or qualname.startswith("torch.optim.lr_scheduler"):
            continue
        given = next((a.value for a in node.args if a.keyword is None or a.keyword.value == "params"), None)
        if given is None:
            return None
        found = True
        owners = _parameter_owners(given)
        if owners:
            models |= owners
        elif not (isinstance(given, (cst.List, cst.Tuple)) and all(_plain_tensor(e.value) for e in given.elements)):
            return None
    return frozenset(models) if found else None


def _parameter_owners(expr: cst.BaseExpression) -> set[str]:
    """``model`` of every ``model.parameters()`` (or ``named_parameters()``) in ``expr``."""
    owners = set()
    for node in iter_nodes(expr):
        if type(node) is cst.Call and type(node.func) is cst.Attribute and node.func.attr.value in ("parameters", "named_parameters"):
            owner = dotted_name(node.func.value)
            if owner is not None:
                owners.add(owner)
    return owners


def _plain_tensor(expr: cst.BaseExpression) -> bool:
    """``target``, ``input_img.requires_grad_()``: a tensor named by itself, not an
    attribute of a model (``model.weight``) or a parameter list."""
    if type(expr) is cst.Call and type(expr.func) is cst.Attribute:
        expr = expr.func.value
    return type(expr) is cst.Name and not PARAMETER_NAME.search(expr.value)




def shape_only(body: cst.CSTNode) -> frozenset[int]:
    """The calls (ids) under ``body`` whose result is only looked at for its shape: the
    receiver of ``.shape``/``.size()``/``.dim()``, or assigned to a name that is read only
    that way. A smoke test ``y = net(torch.randn(2, 3, 32, 32));
    print(y.size())`` runs the model but evaluates nothing: dropout keeps the shape."""
    found: set[int] = set()
    assigned: dict[str, list[cst.Call]] = {}
    reads: dict[str, int] = {}
    shaped: dict[str, int] = {}
    for node in iter_nodes(body):
        kind = type(node)
        if kind is cst.Attribute and node.attr.value in SHAPE_ATTRIBUTES:  # type: ignore[attr-defined]
            value = node.value  # type: ignore[attr-defined]
            if type(value) is cst.Call:
                found.add(id(value))
            elif type(value) is cst.Name:
                shaped[value.value] = shaped.get(value.value, 0) + 1
        elif kind is cst.Call and type(node.func) is cst.Name and node.func.value == "len":  # type: ignore[attr-defined]
            for arg in node.args:  # type: ignore[attr-defined]
                if type(arg.value) is cst.Name:
                    shaped[arg.value.value] = shaped.get(arg.value.value, 0) + 1
        elif kind is cst.Assign and len(node.targets) == 1 and type(node.targets[0].target) is cst.Name:  # type: ignore[attr-defined]
            if type(node.value) is cst.Call:  # type: ignore[attr-defined]
                assigned.setdefault(node.targets[0].target.value, []).append(node.value)  # type: ignore[attr-defined]
        elif kind is cst.Name:
            reads[node.value] = reads.get(node.value, 0) + 1  # type: ignore[attr-defined]
    for name, calls in assigned.items():
        # Every read of the name but its assignments is a shape look-up.
        if 0 < reads.get(name, 0) - len(calls) <= shaped.get(name, 0):
            found.update(id(call) for call in calls)
    return frozenset(found)


def exported(body: cst.CSTNode) -> frozenset[int]:
    """The calls (ids) under ``body`` whose result is taken out of torch as data:
    ``net(x).detach().numpy()``, or ``out = net(x)`` then ``out.cpu().tolist()``. Where
    nothing is trained, that is an inference: the outputs are kept as predictions,
    embeddings or activations."""
    found: set[int] = set()
    names: set[str] = set()
    assigned: dict[str, list[cst.Call]] = {}
    for node in iter_nodes(body):
        kind = type(node)
        if kind is cst.Assign and len(node.targets) == 1 and type(node.targets[0].target) is cst.Name:  # type: ignore[attr-defined]
            if type(node.value) is cst.Call:  # type: ignore[attr-defined]
                assigned.setdefault(node.targets[0].target.value, []).append(node.value)  # type: ignore[attr-defined]
            continue
        if kind is not cst.Call or type(node.func) is not cst.Attribute or node.func.attr.value not in EXPORTED_RESULTS:  # type: ignore[attr-defined]
            continue
        value = node.func.value  # type: ignore[attr-defined]
        while True:
            if type(value) is cst.Call and type(value.func) is cst.Attribute and value.func.attr.value in _PASSED_THROUGH:
                value = value.func.value
            elif type(value) is cst.Attribute and value.attr.value == "data":
                value = value.value
            else:
                break
        if type(value) is cst.Call:
            found.add(id(value))
        elif type(value) is cst.Name:
            names.add(value.value)
    for name in names:
        found.update(id(call) for call in assigned.get(name, ()))
    return frozenset(found)


# A result detached, moved or converted is still that result.
_PASSED_THROUGH = frozenset({"detach", "cpu"}) | EXPORTED_RESULTS


def on_noise(body: cst.CSTNode, qualify: Callable[[cst.BaseExpression], Optional[str]]) -> frozenset[int]:
    """The calls (ids) under ``body`` whose positional inputs are all made up: tensors of
    random numbers or constants (``torch.randn(1, 3, 32, 32)``), given directly, through a
    device move, or through a name bound only to such. A smoke test ``print(net(x))`` on
    noise, a warm-up or a timing run: their outputs measure nothing about the data."""
    bound: dict[str, list[cst.CSTNode]] = {}  # what each name is bound to
    calls: list[cst.Call] = []
    for node in iter_nodes(body):
        if type(node) is cst.Call:
            calls.append(node)
        elif type(node) is cst.Assign and len(node.targets) == 1 and type(node.targets[0].target) is cst.Name:
            bound.setdefault(node.targets[0].target.value, []).append(node.value)
        elif isinstance(node, (cst.For, cst.AugAssign, cst.AnnAssign, cst.NamedExpr)):
            for name in target_names(node.target):
                bound.setdefault(name, []).append(node)  # (bound to something else)
    made_up: dict[str, bool] = {}

    def synthetic(expr: cst.BaseExpression) -> bool:
        while type(expr) is cst.Call and type(expr.func) is cst.Attribute and expr.func.attr.value in DEVICE_MOVES:
            expr = expr.func.value
        if type(expr) is cst.Name:
            name = expr.value
            if name not in made_up:
                made_up[name] = False  # (a name bound to itself is no noise)
                values = bound.get(name, [])
                made_up[name] = bool(values) and all(isinstance(v, cst.BaseExpression) and synthetic(v) for v in values)
            return made_up[name]
        if type(expr) is not cst.Call or not isinstance(expr.func, (cst.Name, cst.Attribute)):
            return False
        qualname = qualify(expr.func) or ""
        return qualname.startswith("torch.") and qualname.rsplit(".", 1)[-1] in SYNTHETIC_TENSORS

    found = set()
    for call in calls:
        inputs = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
        if inputs and all(synthetic(value) for value in inputs):
            found.add(id(call))
    return frozenset(found)


def phase_flag(loop: cst.For | cst.While, flags: Container[str]) -> Optional[str]:
    """The flag that chooses whether a loop trains: one of ``flags`` (the function's
    parameters) that every training step in the loop sits under as ``if flag:``
    (``_run_epoch(loader, train=False)`` evaluates with the same loop). None when the loop
    takes no step, or takes one without such a test."""
    chosen: Optional[str] = None
    stack: list[tuple[cst.CSTNode, Optional[str]]] = [(loop.body, None)]
    found = False
    while stack:
        node, under = stack.pop()
        if is_training_step(node):
            if under is None or (chosen is not None and under != chosen):
                return None
            chosen, found = under, True
            continue
        if type(node) is cst.If and type(node.test) is cst.Name and node.test.value in flags:
            stack.append((node.body, node.test.value))
            if node.orelse is not None:
                stack.append((node.orelse, under))
            continue
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            continue
        stack.extend((child, under) for child in children(node))
    return chosen if found else None
