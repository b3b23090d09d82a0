"""The rule book (``rules/``) is executable: its pages match the registry, and every
example block lints exactly as its ``# error: CODE`` markers say. The runtime rules'
examples (``trace-bad``/``trace-good`` blocks) are traced instead of linted."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dropout_lint.catalog import RULES, TRACE_RULES, Rule
from dropout_lint.cli import main
from dropout_lint.config import Config
from dropout_lint.engine import lint_file, lint_source
from dropout_lint.selection import RULES_BY_CODE
from dropout_lint.rulebook import examples, first_paragraph, pages_dir, page_text, sections
from dropout_lint.runner import lint_files

NO_EXAMPLES = frozenset({"DL901"})  # a crash of a check has no code that shows it
REQUIRED_SECTIONS = ("What it does", "Why is this bad?", "References")
EXAMPLE_SECTIONS = ("Example", "Use instead")
SECTION_ORDER = (
    "What it does",
    "Why is this bad?",
    "Example",
    "Use instead",
    "How to run it",
    "Fix safety",
    "Configuration",
    "References",
)
TRACE_CODES = frozenset(rule.code for rule in TRACE_RULES)  # rules only the tracer reports

_MARKER = re.compile(r"#\s*error:\s*(?P<codes>DL\d+(?:\s*,\s*DL\d+)*)")
ALL = Config(select=("ALL",))


def _folder() -> Path:
    folder = pages_dir()
    assert folder is not None, "the rules/ folder is missing"
    return folder


def _page(rule: Rule) -> str:
    text = page_text(rule)
    assert text is not None, f"no page {rule.code}-{rule.name}.md in {_folder()}"
    return text


def expected_findings(code: str) -> set[tuple[int, str]]:
    """(line, code) for every ``# error: CODE[, CODE]`` marker of a block."""
    out = set()
    for number, line in enumerate(code.splitlines(), start=1):
        for match in _MARKER.finditer(line):
            out.update((number, c.strip()) for c in match.group("codes").split(","))
    return out


def _cases(traced: bool) -> list:
    """The static examples, or (``traced``) the ``trace-bad``/``trace-good`` ones."""
    cases = []
    for rule in RULES:
        text = page_text(rule)
        if text is None:
            continue  # test_every_rule_has_a_page reports it
        counts: dict[str, int] = {}
        for example in examples(text):
            counts[example.kind] = counts.get(example.kind, 0) + 1
            if example.traced != traced:
                continue
            case_id = f"{rule.code}-{example.kind}{counts[example.kind]}"
            cases.append(pytest.param(rule, example, id=case_id))
    return cases


# --- the pages and the registry -----------------------------------------------------


def test_every_rule_has_a_page() -> None:
    folder = _folder()
    expected = {f"{rule.code}-{rule.name}.md" for rule in RULES}
    present = {path.name for path in folder.glob("*.md")}
    assert sorted(expected - present) == [], "rules without a page"
    assert sorted(present - expected) == [], "pages without a rule (renamed or retired?)"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_page_structure(rule: Rule) -> None:
    text = _page(rule)
    assert text.splitlines()[0] == f"# {rule.name} ({rule.code})"
    found = sections(text)
    wanted = REQUIRED_SECTIONS + (() if rule.code in NO_EXAMPLES else EXAMPLE_SECTIONS)
    for title in wanted:
        assert title in found, f"{rule.code}: missing section '## {title}'"
        assert found[title], f"{rule.code}: section '## {title}' is empty"
    if rule.code in TRACE_CODES:
        assert found.get("How to run it"), f"{rule.code}: a tracer rule needs '## How to run it'"
    unknown = [t for t in found if t not in SECTION_ORDER]
    assert unknown == [], f"{rule.code}: unexpected sections {unknown}"
    order = [t for t in SECTION_ORDER if t in found]
    assert list(found) == order, f"{rule.code}: sections out of order"
    if rule.fix_safety is not None:
        assert "Fix safety" in found, f"{rule.code} has a fix safety: its page needs '## Fix safety'"
    assert first_paragraph(text), f"{rule.code}: 'What it does' has no first paragraph"


ARTICLE = 'The article "ドロップアウト層とは" (What is a dropout layer)'
NOT_TORCH = frozenset({"DL900", "DL901", "DL902"})  # about the linter, not a torch API
_LINK = re.compile(r"\[[^\]]+\]\((?P<url>[^)\s]+)\)")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_references_cite_the_torch_documentation(rule: Rule) -> None:
    references = sections(_page(rule))["References"]
    urls = [match.group("url") for match in _LINK.finditer(references)]
    assert all(url.startswith("https://") for url in urls), urls
    if rule.code not in NOT_TORCH:
        # Besides the article: the PyTorch documentation of the API the rule is about.
        assert any(url.startswith("https://pytorch.org/docs/stable/") for url in urls), rule.code
    # The article is cited by its title, always the same way (its address is not known).
    for line in references.splitlines():
        if "ドロップアウト" in line or "article" in line.lower():
            assert line.startswith(f"- {ARTICLE}"), line


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_has_bad_and_good_examples(rule: Rule) -> None:
    kinds = [example.kind for example in examples(_page(rule))]
    if rule.code in NO_EXAMPLES:
        assert kinds == [], f"{rule.code} cannot be shown by an example"
        return
    if rule.code in TRACE_CODES:  # the static linter cannot show them: the tracer runs them
        assert "trace-bad" in kinds, f"{rule.code}: no ```python trace-bad``` block"
        assert "trace-good" in kinds, f"{rule.code}: no ```python trace-good``` block"
        return
    assert "bad" in kinds, f"{rule.code}: no ```python bad``` block"
    assert "good" in kinds, f"{rule.code}: no ```python good``` block"


# --- the examples run -----------------------------------------------------------------


@pytest.mark.parametrize(("rule", "example"), _cases(traced=False))
def test_example(rule: Rule, example) -> None:
    where = f"{rule.code}-{rule.name}.md, block at line {example.line}"
    found = {(d.span.line, d.code) for d in lint_source(example.code, f"{rule.code}_example.py", ALL)}
    expected = expected_findings(example.code)
    if example.kind == "bad":
        assert expected, f"{where}: a bad example needs at least one `# error: CODE` marker"
        assert any(code == rule.code for _, code in expected), f"{where}: never shows {rule.code}"
        assert sorted(found - expected) == [], f"{where}: findings without a marker"
        assert sorted(expected - found) == [], f"{where}: markers without a finding"
    else:
        assert expected == set(), f"{where}: a {example.kind} example carries `# error:` markers"
        assert sorted(found) == [], f"{where}: a {example.kind} example must give no finding"


@pytest.mark.parametrize(("rule", "example"), _cases(traced=True))
def test_trace_example(rule: Rule, example, tmp_path: Path) -> None:
    """A ``trace-*`` block is a module with ``Model`` and ``example_inputs()``: traced in
    process (with the conformance check), it gives exactly its ``# error:`` markers."""
    torch = pytest.importorskip("torch")
    from dropout_lint.tracer.trace import to_inputs, trace_model

    where = f"{rule.code}-{rule.name}.md, block at line {example.line}"
    path = tmp_path / "example.py"
    path.write_text(example.code, encoding="utf-8")
    # Registered in sys.modules while it runs: inspect finds a class's file through it.
    name = f"_rulebook_example_{rule.code}_{example.line}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = module.Model()
            inputs = to_inputs(module.example_inputs())
            result = trace_model(model, inputs, conformance=True)
    finally:
        sys.modules.pop(name, None)

    here = os.path.realpath(path)
    inside = [f for f in result.findings if f.file is not None and os.path.realpath(f.file) == here]
    elsewhere = [f"{f.code} at {f.file}:{f.line}: {f.message}" for f in result.findings if f not in inside]
    assert elsewhere == [], f"{where}: findings outside the example"
    found = {(f.line, f.code) for f in inside}
    expected = expected_findings(example.code)
    messages = "\n".join(f"{f.line}: {f.code} {f.message}" for f in inside)
    if example.kind == "trace-bad":
        assert expected, f"{where}: a trace-bad example needs at least one `# error: CODE` marker"
        assert any(code == rule.code for _, code in expected), f"{where}: never shows {rule.code}"
        assert sorted(found - expected) == [], f"{where}: findings without a marker\n{messages}"
        assert sorted(expected - found) == [], f"{where}: markers without a finding\n{messages}"
    else:
        assert expected == set(), f"{where}: a trace-good example carries `# error:` markers"
        assert sorted(found) == [], f"{where}: a trace-good example must give no finding\n{messages}"


FIXABLE = [rule for rule in RULES if rule.fix_safety is not None]


@pytest.mark.parametrize("rule", FIXABLE, ids=lambda r: r.code)
def test_fixable_rules_show_their_fix(rule: Rule) -> None:
    """A fixable rule's page states the fix's safety and shows the bad example fixed:
    the fixer, run on the bad example, gives exactly the ``fixed`` block, which lints
    clean, and fixing it again changes nothing."""
    from dropout_lint.fixer import fix_text

    text = page_text(rule)
    assert text is not None
    safety = sections(text).get("Fix safety", "")
    assert safety, f"{rule.code}: a fixable rule needs '## Fix safety'"
    stated = "unsafe" if re.search(r"\bunsafe\b", safety) else "safe" if re.search(r"\bsafe\b", safety) else None
    assert stated == rule.fix_safety.value, f"{rule.code}: the page says {stated}, the rule is {rule.fix_safety.value}"
    blocks = examples(text)
    fixed = [e for e in blocks if e.kind == "fixed"]
    assert len(fixed) == 1, f"{rule.code}: needs one ```python fixed``` block"
    bad = next(e for e in blocks if e.kind == "bad")
    unmarked = "".join(_MARKER.sub("", line).rstrip() + "\n" for line in bad.code.splitlines())
    outcome = fix_text(unmarked, "example.py", ALL, unsafe=True)
    assert outcome.error is None
    assert outcome.fixed == fixed[0].code
    assert fix_text(outcome.fixed, "example.py", ALL, unsafe=True).applied == 0


def test_rules_without_a_fix_show_none() -> None:
    for rule in RULES:
        if rule.fix_safety is None:
            text = page_text(rule) or ""
            assert not [e for e in examples(text) if e.kind == "fixed"], f"{rule.code} has no fix"


def test_markers_are_read() -> None:
    code = "a = 1  # error: DL201\nb = 2  # error: DL202, DL203\nc = 3\n"
    assert expected_findings(code) == {(1, "DL201"), (2, "DL202"), (2, "DL203")}


# --- the messages ---------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
# A message states the problem in its first clause and leaves the explanation to the rule
# page. Names and expressions quoted from the user's code (`...`) can be long; each counts
# as at most QUOTED_CAP characters.
MAX_MESSAGE = 160
MAX_MEDIAN = 120
QUOTED_CAP = 20
_QUOTED = re.compile(r"`[^`]*`")


def message_length(message: str) -> int:
    return len(_QUOTED.sub(lambda m: m.group(0)[:QUOTED_CAP], message))


def _static_messages() -> list[tuple[str, str]]:
    """(where, message) of every finding of the rule book's static examples and of the
    fixtures (run from the repository's root, so that paths read as in the fixtures)."""
    out = []
    for rule in RULES:
        for example in examples(page_text(rule) or ""):
            if not example.traced:
                where = f"{rule.code}-{rule.name}.md, block at line {example.line}"
                out += [(where, d.message) for d in lint_source(example.code, f"{rule.code}_example.py", ALL)]
    fixtures = ROOT / "fixtures"
    singles = sorted(p for folder in ("examples", "local", "tracer", "notebooks") for p in (fixtures / folder).iterdir())
    for path in singles:
        if path.suffix in (".py", ".ipynb"):
            relative = path.relative_to(ROOT).as_posix()
            out += [(relative, d.message) for d in lint_file(relative, ALL, relative).diagnostics]
    for folder in sorted(p for p in (fixtures / "projects").iterdir() if p.is_dir()):
        files = sorted(p.relative_to(ROOT).as_posix() for p in folder.rglob("*.py"))
        out += [(r.path, d.message) for r in lint_files(files, ALL, jobs=1) for d in r.diagnostics]
    return out


def test_message_length_caps_quoted_code() -> None:
    assert message_length("`model.eval` is not called") == 26
    assert message_length(f"`{'x' * 40}` is not called") == QUOTED_CAP + len(" is not called")


def test_messages_are_short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    found = _static_messages()
    assert len({message for _, message in found}) >= 80, "the examples and fixtures give too few findings to judge"
    assert [f"{where}: {message!r}" for where, message in found if "\n" in message] == []
    long = [f"{where}: ({message_length(m)}) {m}" for where, m in found if message_length(m) > MAX_MESSAGE]
    assert long == [], "messages longer than MAX_MESSAGE: say the problem, leave the reasons to the rule page"
    lengths = sorted(message_length(message) for _, message in found)
    assert lengths[len(lengths) // 2] <= MAX_MEDIAN


# --- dropout-lint explain -------------------------------------------------------------


def test_explain_prints_the_page() -> None:
    rule = RULES_BY_CODE["DL401"]
    result = CliRunner().invoke(main, ["explain", "dl401"], env={"NO_COLOR": "1", "FORCE_COLOR": None})
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert first_paragraph(_page(rule)) in output
    assert f"severity: {rule.severity.value}" in output
    assert rule.name in output


def test_explain_unknown_rule() -> None:
    result = CliRunner().invoke(main, ["explain", "DL999"], env={"NO_COLOR": "1"})
    assert result.exit_code == 2
    assert "unknown rule" in result.output
    assert "DL999" in result.output
