"""What a class's ``__init__`` does with the arguments that set dropout.

A constructor argument named like a dropout setting (``ff_dropout``, ``attn_drop``,
``dropout_dim``; see ``vocabulary.DROPOUT_SETTING``) can only reach a layer through
``__init__`` itself: another method never sees the local. So whether it is used is told
from ``__init__``'s code: any read of the name (passed to a call, used in an expression,
put in a dict, a partial or ``super().__init__``) uses it; an argument that is only kept
on the instance (``self.p = p``) is used only if something reads that attribute, which
the cross-file rule decides over the class's family.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Optional

import libcst as cst

from dropout_lint.analysis.syntax import Statement, function_body, is_self_attribute, iter_nodes
from dropout_lint.analysis.vocabulary import DROPOUT_SETTING, UNUSED_WORDS

# Calls that read the arguments through the frame (``locals()``, Lightning's
# ``save_hyperparameters()``, fastai's ``store_attr()``), where the code cannot be followed.
_FRAME_READERS = frozenset({"locals", "currentframe", "_getframe", "stack", "getargvalues", "store_attr"})
_HPARAMS_SAVER = "save_hyperparameters"
# Decorators that pass the arguments on unchanged (type checks, deprecation warnings); any
# other decorator of `__init__` may keep them (diffusers' `@register_to_config`).
_PASSING_DECORATORS = frozenset(
    {"typechecked", "beartype", "jaxtyped", "overload", "override", "no_type_check", "validate_call", "validate_arguments"}
)


class Fate(enum.Enum):
    READ = "read"  # some code of __init__ reads it
    STORED = "stored"  # only kept on the instance: `self.p = p`
    UNREAD = "unread"  # nothing reads it
    DISCARDED = "discarded"  # left out on purpose: `del p`, `_ = p`, a bare `p`, a comment naming it


@dataclass(frozen=True)
class DropoutArgument:
    """A dropout-setting argument of ``__init__`` and what becomes of it."""

    name: str
    param: cst.Param
    fate: Fate
    stores: tuple[tuple[str, cst.CSTNode], ...] = ()  # (attribute, the assignment) for STORED
    literal: Optional[cst.Arg] = None  # `Block(p=0.)` in __init__ for an UNREAD `p`


class Keeper(enum.Enum):
    """What keeps every argument of ``__init__`` under its own name, besides its code."""

    NONE = "none"
    HPARAMS = "hparams"  # Lightning's `self.save_hyperparameters()`: `self.hparams.<name>`
    DECORATOR = "decorator"  # `@register_to_config` and the like: `self.config.<name>`


@dataclass(frozen=True)
class InitArguments:
    """The dropout-setting arguments of one ``__init__``, and what keeps them all."""

    arguments: tuple[DropoutArgument, ...]
    keeper: Keeper = Keeper.NONE


def dropout_arguments(init: cst.FunctionDef, docstrings: Sequence[str] = ()) -> InitArguments:
    """The fates of ``init``'s dropout-setting arguments; none for an ``__init__`` that
    reads its frame (``locals()``), that is only an interface (``...``, ``pass``,
    ``raise NotImplementedError``), or for arguments that its decorators name, that a
    comment or a docstring (``docstrings``: the class's and ``__init__``'s) calls unused,
    or that start with ``_``."""
    params = init.params
    candidates = [
        param
        for param in (*params.posonly_params, *params.params, *params.kwonly_params)
        if DROPOUT_SETTING.search(param.name.value) and not param.name.value.startswith("_")
    ]
    body = function_body(init)
    if not candidates or _interface_only(body):
        return InitArguments(())
    keeper = Keeper.DECORATOR if any(_keeps(decorator) for decorator in init.decorators) else Keeper.NONE
    for node in iter_nodes(init):
        if type(node) is cst.Call:
            called = _called_name(node)
            if called in _FRAME_READERS or (called == "vars" and not node.args):
                return InitArguments(())
            if called == _HPARAMS_SAVER:
                if node.args:
                    return InitArguments(())  # a selection, or a dict: not followed
                keeper = Keeper.HPARAMS
    named = _decorator_strings(init)
    out = []
    comments: Optional[list[str]] = None
    for param in candidates:
        name = param.name.value
        if name in named or _documented_unused(param, name, docstrings):
            continue
        fate = _fate(init, param, name)
        if fate.fate in (Fate.UNREAD, Fate.STORED):
            if comments is None:
                comments = list(_body_comments(init))
            if any(re.search(rf"\b{re.escape(name)}\b", comment) for comment in comments):
                fate = replace(fate, fate=Fate.DISCARDED)  # `# self.drop = Dropout(p)`: knowingly left out
        out.append(fate)
    return InitArguments(tuple(out), keeper)


def _fate(init: cst.FunctionDef, param: cst.Param, name: str) -> DropoutArgument:
    stores: list[tuple[str, cst.CSTNode]] = []
    skip: set[int] = set()  # Name nodes that are no reads of the argument
    discarded = False
    for node in iter_nodes(init.body):
        if type(node) is cst.Attribute:
            skip.add(id(node.attr))
        elif type(node) is cst.Arg and node.keyword is not None:
            skip.add(id(node.keyword))
        elif type(node) is cst.Param:
            skip.add(id(node.name))
        elif type(node) is cst.Assert or (type(node) is cst.If and _only_raises(node)):
            skip.update(id(inner) for inner in iter_nodes(node) if type(inner) is cst.Name)  # a check of the value
        elif type(node) is cst.Del and _is_name(node.target, name):
            discarded = True
        elif type(node) is cst.Expr and _is_name(node.value, name):
            discarded = True  # a bare `p`, which marks it as unused
        elif type(node) is cst.Assign and _is_name(node.value, name):
            targets = [target.target for target in node.targets]
            if all(_is_name(target, "_") for target in targets):
                discarded = True
            attrs = [is_self_attribute(target) for target in targets]
            if attrs and all(attr is not None for attr in attrs):
                stores.extend((attr, node) for attr in attrs if attr is not None)
                skip.add(id(node.value))
        elif type(node) is cst.AnnAssign and node.value is not None and _is_name(node.value, name):
            attr = is_self_attribute(node.target)
            if attr is not None:
                stores.append((attr, node))
                skip.add(id(node.value))
    if discarded:
        return DropoutArgument(name, param, Fate.DISCARDED)
    reads = any(type(node) is cst.Name and node.value == name and id(node) not in skip for node in iter_nodes(init.body))
    if reads:
        return DropoutArgument(name, param, Fate.READ)
    if stores:
        return DropoutArgument(name, param, Fate.STORED, tuple(stores))
    return DropoutArgument(name, param, Fate.UNREAD, literal=_literal_instead(init, name))


def _only_raises(stmt: cst.If) -> bool:
    """``if not 0 <= p <= 1: raise ValueError(...)``: a test of the argument's value."""
    if stmt.orelse is not None:
        return False
    body = stmt.body.body
    return all(
        type(line) is cst.SimpleStatementLine and all(type(small) is cst.Raise for small in line.body) for line in body
    )


def _literal_instead(init: cst.FunctionDef, name: str) -> Optional[cst.Arg]:
    """A call in ``__init__`` that gets a number for a keyword spelt like the argument:
    ``Reformer(post_attn_dropout=0.)`` where ``__init__`` takes ``post_attn_dropout``."""
    for node in iter_nodes(init.body):
        if type(node) is cst.Arg and node.keyword is not None and node.keyword.value == name:
            value = node.value
            if type(value) is cst.UnaryOperation and type(value.operator) is cst.Minus:
                value = value.expression
            if isinstance(value, (cst.Integer, cst.Float)):
                return node
    return None


def _interface_only(body: Sequence[Statement]) -> bool:
    """A body of a docstring, ``...``, ``pass``, ``return`` or ``raise NotImplementedError``."""
    for stmt in body:
        if type(stmt) is not cst.SimpleStatementLine:
            return False
        for small in stmt.body:
            if type(small) is cst.Pass or (type(small) is cst.Return and small.value is None):
                continue
            if type(small) is cst.Expr and isinstance(small.value, (cst.Ellipsis, cst.SimpleString, cst.ConcatenatedString)):
                continue
            if type(small) is cst.Raise and small.exc is not None and "NotImplementedError" in _names(small.exc):
                continue
            return False
    return True


def _names(node: cst.CSTNode) -> set[str]:
    return {n.value for n in iter_nodes(node) if type(n) is cst.Name}


def _called_name(call: cst.Call) -> Optional[str]:
    func = call.func
    if type(func) is cst.Name:
        return func.value
    if type(func) is cst.Attribute:
        return func.attr.value
    return None


def _keeps(decorator: cst.Decorator) -> bool:
    target = decorator.decorator
    if type(target) is cst.Call:
        target = target.func
    name = target.value if type(target) is cst.Name else target.attr.value if type(target) is cst.Attribute else None
    return name is None or not (name in _PASSING_DECORATORS or name.startswith("deprecat"))


def _is_name(node: Optional[cst.CSTNode], name: str) -> bool:
    return type(node) is cst.Name and node.value == name


def _decorator_strings(init: cst.FunctionDef) -> set[str]:
    """The strings in ``__init__``'s decorators: ``@deprecated_arg(name="dropout_prob")``
    says the argument is there for old callers."""
    out: set[str] = set()
    for decorator in init.decorators:
        for node in iter_nodes(decorator):
            if type(node) is cst.SimpleString and isinstance(node.evaluated_value, str):
                out.add(node.evaluated_value)
    return out


def _documented_unused(param: cst.Param, name: str, docstrings: Sequence[str]) -> bool:
    """Whether a comment on the argument, or the lines that document it, say it is unused
    (``dropout: float = 0.0,  # deprecated``; ``dropout: not used, kept for compatibility``)."""
    if any(UNUSED_WORDS.search(comment) for comment in _comments(param)):
        return True
    for docstring in docstrings:
        lines = docstring.splitlines()
        for number, line in enumerate(lines):
            if _documents(line, name) and any(UNUSED_WORDS.search(text) for text in _entry(lines, number)):
                return True
    return False


def _entry(lines: Sequence[str], start: int) -> Iterator[str]:
    """The docstring lines of the entry that starts at ``start``: it and the lines
    indented deeper below it."""
    yield lines[start]
    indent = len(lines[start]) - len(lines[start].lstrip())
    for line in lines[start + 1 :]:
        if not line.strip() or len(line) - len(line.lstrip()) <= indent:
            return
        yield line


def _documents(line: str, name: str) -> bool:
    """Whether a docstring line starts the entry of an argument (``name:``, ``name (float):``,
    ``:param name:``, ``name : float``)."""
    stripped = line.strip().lstrip("*`").replace(":param ", "").replace("`", "")
    if not stripped.startswith(name):
        return False
    rest = stripped[len(name) :].lstrip()
    return rest.startswith((":", "(", "-"))


def _body_comments(init: cst.FunctionDef) -> Iterator[str]:
    """The comments in ``__init__``'s body (a line's text from its ``#``)."""
    for line in _EMPTY.code_for_node(init.body).splitlines():
        if "#" in line:
            yield line[line.index("#") :]


def _comments(param: cst.Param) -> Iterator[str]:
    """The comment at the end of the argument's line (``p: float = 0.0,  # unused``)."""
    line = _EMPTY.code_for_node(param).split("\n", 1)[0]
    if "#" in line:
        yield line[line.index("#") :]


_EMPTY = cst.Module([])
