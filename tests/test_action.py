"""The GitHub Action (action.yml): its structure, and its shell steps run here for real.

The steps that lint are run with bash as the runner would run them (``bash --noprofile
--norc -eo pipefail``), with the env the action sets: ``${{ inputs.X }}`` and
``${{ github.action_path }}`` in a step's ``env:`` are replaced by the test's inputs and
this checkout, ``GITHUB_OUTPUT`` is a temporary file and ``dropout-lint`` is this
virtualenv's. actions/setup-python and actions/cache are skipped; the install step runs
against a stand-in Python whose ``-m venv`` makes a virtual environment of stand-ins: a
``python`` that records its arguments instead of installing anything, and this
virtualenv's ``dropout-lint``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
BIN = Path(sys.executable).parent

DIRTY = "fixtures/examples/train_mnist.py"  # five findings, three of them errors
CLEAN = "fixtures/local/clean_model.py"

DEFAULTS = {
    "paths": ".",
    "args": "",
    "report": "annotations",
    "format": "",
    "sarif-file": "dropout-lint.sarif",
    "cache": "true",
    "python-version": "3.11",
    "version": "",
}
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = ACTION["runs"]["steps"]
    return steps


def _step(step_id: str) -> dict[str, Any]:
    (step,) = [s for s in _steps() if s.get("id") == step_id]
    return step


def _evaluate(value: str, inputs: dict[str, str], known: dict[str, str]) -> str:
    """The few expressions the action's env uses; anything else fails the test."""

    def one(match: re.Match[str]) -> str:
        expr = match.group(1)
        if expr in known:
            return known[expr]
        name = expr.removeprefix("inputs.")
        assert name != expr and name in inputs, f"unexpected expression {match.group(0)}"
        return inputs[name]

    return EXPRESSION.sub(one, value)


# The stand-in for the Python that setup-python installs: `-m venv DIR` makes DIR/bin with
# a python that records its arguments and the dropout-lint under test.
_SETUP_PYTHON = r"""#!/bin/sh
[ "$1 $2" = "-m venv" ] || exit 3
mkdir -p "$3/bin"
cat > "$3/bin/python" <<'SHIM'
#!/bin/sh
printf '%s\n' "$@" > "{log}"
SHIM
chmod +x "$3/bin/python"
ln -sf "{dropout_lint}" "$3/bin/dropout-lint"
"""


class Runner:
    def __init__(self, tmp_path: Path) -> None:
        self.workspace = tmp_path / "workspace"
        shutil.copytree(ROOT / "fixtures", self.workspace / "fixtures")
        self.output = tmp_path / "github_output"
        self.output.write_text("", encoding="utf-8")
        self.temp = tmp_path / "runner-temp"
        self.temp.mkdir()
        self.pip_log = tmp_path / "pip.log"
        # The job's own python, which the action must leave alone.
        self.shims = tmp_path / "shims"
        self.shims.mkdir()
        self.job_python_log = tmp_path / "job-python.log"
        job_python = self.shims / "python"
        job_python.write_text(f'#!/bin/sh\necho "$@" >> "{self.job_python_log}"\n', encoding="utf-8")
        job_python.chmod(0o755)
        self.setup_python = tmp_path / "setup-python" / "python"
        self.setup_python.parent.mkdir()
        script = _SETUP_PYTHON.format(log=self.pip_log, dropout_lint=BIN / "dropout-lint")
        self.setup_python.write_text(script, encoding="utf-8")
        self.setup_python.chmod(0o755)
        self.cache_dir = self.temp / "dropout-lint-cache"
        self.known = {
            "github.action_path": str(ROOT),
            "steps.python.outputs.python-path": str(self.setup_python),
            "steps.install.outputs.executable": str(self.temp / "dropout-lint-venv" / "bin" / "dropout-lint"),
            "steps.install.outputs.cache-dir": str(self.cache_dir),
        }

    def run(self, step_id: str, **overrides: str) -> subprocess.CompletedProcess[str]:
        inputs = {**DEFAULTS, **{k.replace("_", "-"): v for k, v in overrides.items()}}
        step = _step(step_id)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "DROPOUT_LINT"))}
        env.update({name: _evaluate(str(value), inputs, self.known) for name, value in step.get("env", {}).items()})
        env.update(
            GITHUB_OUTPUT=str(self.output),
            GITHUB_WORKSPACE=str(self.workspace),
            GITHUB_ACTION_PATH=str(ROOT),
            RUNNER_TEMP=str(self.temp),
            PATH=os.pathsep.join([str(self.shims), str(BIN), env.get("PATH", "")]),
            NO_COLOR="1",
        )
        script = self.workspace.parent / f"{step_id}.sh"
        script.write_text(step["run"], encoding="utf-8")
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def outputs(self) -> dict[str, str]:
        lines = self.output.read_text(encoding="utf-8").splitlines()
        return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    made = Runner(tmp_path)
    done = made.run("install")
    assert done.returncode == 0, done.stdout + done.stderr
    return made


# -- structure ------------------------------------------------------------------------


def test_composite_action_with_inputs_and_defaults() -> None:
    assert ACTION["name"] and ACTION["description"]
    assert ACTION["runs"]["using"] == "composite"
    inputs = ACTION["inputs"]
    assert set(inputs) == set(DEFAULTS)
    for name, default in DEFAULTS.items():
        assert inputs[name]["description"], name
        assert str(inputs[name].get("default")) == default, name
        assert inputs[name].get("required", False) is False, name
    assert ACTION["outputs"]["sarif-file"]["value"] == "${{ steps.sarif.outputs.sarif-file }}"


def test_format_input_matches_the_cli() -> None:
    from dropout_lint.cli import main

    (option,) = [p for p in main.commands["check"].params if "--format" in p.opts]  # type: ignore[attr-defined]
    description = ACTION["inputs"]["format"]["description"]
    for choice in option.type.choices:
        assert choice in description
    # Empty: the format that suits `report`, each a format of the CLI.
    assert DEFAULTS["format"] == ""
    for implied in ("github", "concise"):
        assert implied in option.type.choices and implied in _step("lint")["run"]


def test_steps_are_bash_without_torch_and_take_inputs_through_env() -> None:
    steps = _steps()
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert steps[0]["id"] == "python"
    assert steps[0]["with"]["python-version"] == "${{ inputs.python-version }}"
    # The job's own Python and PATH stay as they were for the steps after the action.
    assert steps[0]["with"]["update-environment"] is False
    runs = [s for s in steps if "run" in s]
    assert [s["id"] for s in runs] == ["install", "sarif", "lint"]
    for step in runs:
        assert step["shell"] == "bash", step["id"]
        # Inputs reach the script only through env: nothing is pasted into the script.
        assert "${{" not in step["run"], step["id"]
        assert "torch" not in step["run"] and "[trace" not in step["run"], step["id"]
        for value in step.get("env", {}).values():
            assert EXPRESSION.fullmatch(str(value)), value
    assert _step("sarif")["if"] == "inputs.report == 'code-scanning'"
    # The check is the last step, so its exit status is the action's.
    assert steps[-1]["id"] == "lint"
    assert "--exit-zero" not in _step("lint")["run"]


# -- the steps, run ---------------------------------------------------------------------


def test_the_lint_cache_is_kept_between_runs() -> None:
    (cache,) = [s for s in _steps() if s.get("uses", "").startswith("actions/cache@")]
    assert cache["if"] == "inputs.cache == 'true'"
    assert cache["with"]["path"] == "${{ steps.install.outputs.cache-dir }}"
    # A key of its own per run (caches cannot be overwritten), the latest one restored.
    assert "github.run_id" in cache["with"]["key"]
    assert cache["with"]["key"].startswith(cache["with"]["restore-keys"])
    names = [s.get("id") or s.get("uses") for s in _steps()]
    assert names.index(cache["uses"]) < names.index("sarif") < names.index("lint")
    for step_id in ("sarif", "lint"):
        assert _step(step_id)["env"]["DROPOUT_LINT_CACHE_DIR"] == cache["with"]["path"]
        assert '--cache-dir "$DROPOUT_LINT_CACHE_DIR"' in _step(step_id)["run"]


def test_install_from_the_action_checkout_without_torch(runner: Runner) -> None:
    done = runner.run("install")
    assert done.returncode == 0, done.stdout + done.stderr
    args = runner.pip_log.read_text(encoding="utf-8").splitlines()
    assert args[:2] == ["-m", "pip"] and "install" in args
    assert args[-1] == str(ROOT)
    assert not any("torch" in a or "trace" in a for a in args)
    assert done.stdout.startswith("dropout-lint ")
    # Into a virtual environment of its own: the job's python was not run.
    assert not runner.job_python_log.exists()
    assert runner.outputs()["executable"] == runner.known["steps.install.outputs.executable"]
    assert runner.outputs()["cache-dir"] == str(runner.cache_dir)


def test_an_unknown_report_is_a_usage_error(runner: Runner) -> None:
    done = runner.run("install", report="both")
    assert done.returncode == 2
    assert "::error::report must be annotations or code-scanning" in done.stdout


def test_install_a_pinned_version_from_pypi(runner: Runner) -> None:
    done = runner.run("install", version="v0.2.0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert runner.pip_log.read_text(encoding="utf-8").splitlines()[-1] == "dropout-lint==0.2.0"


def test_findings_fail_the_check_inline(runner: Runner) -> None:
    lint = runner.run("lint", paths=DIRTY)
    assert lint.returncode == 1, lint.stdout + lint.stderr
    errors = [line for line in lint.stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 3
    assert all(line.startswith(f"::error file={DIRTY},line=") for line in errors)
    assert any("title=DL401 functional-dropout-always-on::" in line for line in errors)
    assert sum(line.startswith("::warning ") for line in lint.stdout.splitlines()) == 2
    # The cache the next workflow run restores.
    assert runner.cache_dir.is_dir() and any(runner.cache_dir.rglob("run-*"))


def test_code_scanning_fills_the_sarif_report_and_annotates_nothing(runner: Runner) -> None:
    sarif = runner.run("sarif", paths=DIRTY, report="code-scanning")
    assert sarif.returncode == 0, sarif.stdout + sarif.stderr
    assert runner.outputs()["sarif-file"] == "dropout-lint.sarif"
    report = json.loads((runner.workspace / "dropout-lint.sarif").read_text(encoding="utf-8"))
    assert report["version"] == "2.1.0"
    results = report["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"DL202", "DL401", "DL304", "DL301", "DL305"}

    lint = runner.run("lint", paths=DIRTY, report="code-scanning")
    assert lint.returncode == 1, lint.stdout + lint.stderr
    assert "::error" not in lint.stdout and "::warning" not in lint.stdout
    assert f"{DIRTY}:25:13: DL401 [error]" in lint.stdout
    # An explicit format still wins.
    lint = runner.run("lint", paths=DIRTY, report="code-scanning", format="json")
    assert {f["code"] for f in json.loads(lint.stdout)} == {"DL202", "DL401", "DL304", "DL301", "DL305"}


def test_code_scanning_needs_a_sarif_file(runner: Runner) -> None:
    done = runner.run("sarif", paths=DIRTY, report="code-scanning", sarif_file="")
    assert done.returncode == 2
    assert "::error::sarif-file must be set" in done.stdout


def test_clean_file_passes(runner: Runner) -> None:
    sarif = runner.run("sarif", paths=CLEAN, sarif_file="reports/out.sarif", report="code-scanning")
    assert sarif.returncode == 0, sarif.stdout + sarif.stderr
    report = json.loads((runner.workspace / "reports" / "out.sarif").read_text(encoding="utf-8"))
    assert report["version"] == "2.1.0" and report["runs"][0]["results"] == []
    assert runner.outputs()["sarif-file"] == "reports/out.sarif"

    lint = runner.run("lint", paths=CLEAN)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "::error" not in lint.stdout and "::warning" not in lint.stdout


def test_several_paths_args_and_format(runner: Runner) -> None:
    paths = f"{CLEAN}\n{DIRTY}  fixtures/local/rates.py"
    done = runner.run("lint", paths=paths, args="--select DL401  --quiet", format="json")
    assert done.returncode == 1, done.stdout + done.stderr
    findings = json.loads(done.stdout)
    assert {f["code"] for f in findings} == {"DL401"}
    assert {f["path"] for f in findings} == {DIRTY, "fixtures/local/rates.py"}

    # args apply to the SARIF report too, and --format/--output there cannot be overridden.
    runner.run("sarif", paths=paths, args="--select DL401 --format text", report="code-scanning")
    report = json.loads((runner.workspace / "dropout-lint.sarif").read_text(encoding="utf-8"))
    assert {r["ruleId"] for r in report["runs"][0]["results"]} == {"DL401"}


def test_default_paths_lint_the_workspace(runner: Runner) -> None:
    done = runner.run("lint", format="concise", args="-q")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{DIRTY}:25:13: DL401" in done.stdout


def test_usage_error_is_passed_through(runner: Runner) -> None:
    done = runner.run("lint", paths=CLEAN, format="xml")
    assert done.returncode == 2


def test_inputs_are_not_evaluated_by_the_shell(runner: Runner) -> None:
    # The steps run in the workspace, so a relative `touch pwned` would land there.
    hostile = f"{CLEAN}; touch pwned $(touch pwned) `touch pwned`"
    for step_id in ("sarif", "lint"):
        done = runner.run(step_id, paths=hostile, args="$(touch pwned)")
        assert done.returncode == 2, done.stdout + done.stderr  # no such file or option
    runner.run("install", version="1; touch pwned")
    runner.run("install", report="$(touch pwned)")
    done = runner.run("sarif", paths=CLEAN, sarif_file="$(touch pwned).sarif", report="code-scanning")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (runner.workspace / "$(touch pwned).sarif").is_file()
    assert not (runner.workspace / "pwned").exists()


def test_readme_workflows_use_the_action() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### GitHub Action", 1)[1].split("\n### ", 1)[0]
    blocks = [yaml.safe_load(block.split("\n```", 1)[0]) for block in section.split("```yaml\n")[1:]]
    reports = set()
    for workflow in blocks:
        (job,) = workflow["jobs"].values()
        ours = [s for s in job["steps"] if s.get("uses", "").endswith("/dropout-lint")]
        (step,) = ours
        # A local copy until the repository is published: no owner or tag to make up.
        assert step["uses"].startswith("./"), step["uses"]
        assert set(step.get("with", {})) <= set(ACTION["inputs"])
        report = step.get("with", {}).get("report", DEFAULTS["report"])
        reports.add(report)
        uploads = [s for s in job["steps"] if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
        if report == "code-scanning":
            (upload,) = uploads
            assert job["permissions"]["security-events"] == "write"
            assert upload["if"] == "always()"
            assert upload["with"]["sarif_file"] == "${{ steps.%s.outputs.sarif-file }}" % step["id"]
        else:
            assert uploads == []
    assert reports == {"annotations", "code-scanning"}
    for name in ACTION["inputs"]:
        assert f"| `{name}` | " in section
