"""The pre-commit hook, run for real with ``pre-commit try-repo``.

try-repo clones the hook repository at HEAD and only adds *tracked* uncommitted changes;
with no commit at all it fails outright (``git ls-remote ... HEAD``). So the test copies
this checkout's working tree (tracked and untracked files, minus what .gitignore skips)
into a fresh repository with one commit and points try-repo at that. try-repo then builds
the hook with pip, which needs network access to fetch the build backend and dependencies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

BAD = """\
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 10)
        self.drop = nn.Dropout(p=0.8)        # DL202 high-dropout-rate (warning)

    def forward(self, x):
        x = F.dropout(self.fc(x), 0.5)       # DL401 functional-dropout-always-on (error)
        return x + self.drop(x)

model = Net()
model.eval                                   # DL304 mode-method-not-called (error)
"""

FIXED = """\
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 10)
        self.drop = nn.Dropout(p=0.1)

    def forward(self, x):
        x = F.dropout(self.fc(x), 0.5, training=self.training)
        return x + self.drop(x)

model = Net()
model.eval()
"""

_NOT_SHIPPED = shutil.ignore_patterns(
    ".git", ".venv", "venv", "__pycache__", "*.pyc", "*.egg-info", ".pytest_cache", ".mypy_cache", "build", "dist"
)


def _git() -> str:
    git = shutil.which("git")
    assert git is not None, "git is needed to run pre-commit"
    return git


def _git_env(home: Path) -> dict[str, str]:
    """An environment where the developer's git and pre-commit settings cannot interfere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="test",
        GIT_COMMITTER_EMAIL="test@example.com",
        PRE_COMMIT_HOME=str(home / "pre-commit-home"),
        NO_COLOR="1",
    )
    return env


def _git_run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run([_git(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"git {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


def _checkout_files() -> list[str]:
    """The working tree's files as git sees them (ignored ones left out); [] outside git."""
    done = subprocess.run(
        [_git(), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        return []
    return sorted({name for name in done.stdout.split("\0") if name and (REPO_ROOT / name).is_file()})


def _copy_checkout(dest: Path, env: dict[str, str]) -> None:
    """This working tree, committed into a fresh repository at ``dest``."""
    names = _checkout_files()
    if names:
        for name in names:
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, target)
    else:  # an unpacked sdist: no git metadata to ask
        shutil.copytree(REPO_ROOT, dest, ignore=_NOT_SHIPPED)
    assert (dest / ".pre-commit-hooks.yaml").is_file()
    assert (dest / "pyproject.toml").is_file()
    _git_run(["init", "-q", "."], dest, env)
    _git_run(["add", "-A"], dest, env)
    _git_run(["commit", "-q", "--no-verify", "-m", "snapshot of the working tree"], dest, env)


def _try_repo(hook_repo: Path, target: Path, env: dict[str, str], *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(hook_repo),
            "dropout-lint",
            "--color",
            "never",
            "--files",
            *files,
        ],
        cwd=target,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_hook_manifest() -> None:
    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(REPO_ROOT / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "dropout-lint"
    assert hook["name"]
    assert hook["description"]
    assert hook["entry"] == "dropout-lint check --force-exclude"
    assert hook["language"] == "python"
    assert hook["types_or"] == ["python", "jupyter"]
    assert hook["require_serial"] is True
    assert hook["pass_filenames"] is True


@pytest.mark.slow
def test_pre_commit_try_repo_fails_then_passes(tmp_path: Path) -> None:
    env = _git_env(tmp_path)
    hook_repo = tmp_path / "hook-repo"
    hook_repo.mkdir()
    _copy_checkout(hook_repo, env)

    target = tmp_path / "project"
    target.mkdir()
    _git_run(["init", "-q", "."], target, env)
    (target / "bad.py").write_text(BAD, encoding="utf-8")
    # Not Python by type: the hook must not be handed it, although the linter would lint it.
    (target / "notes.txt").write_text(BAD, encoding="utf-8")
    _git_run(["add", "bad.py", "notes.txt"], target, env)

    failed = _try_repo(hook_repo, target, env, "bad.py", "notes.txt")
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "An unexpected error has occurred" not in output
    assert "Failed" in output
    assert "bad.py:11:13: DL401" in output
    assert "bad.py:15:1: DL304" in output
    assert "notes.txt:" not in output  # types_or kept it away from the linter

    (target / "bad.py").write_text(FIXED, encoding="utf-8")
    # Staged vendored code that the configuration excludes does not block the commit
    # (the hook runs with --force-exclude).
    (target / "pyproject.toml").write_text('[tool.dropout-lint]\nextend-exclude = ["third_party/"]\n', encoding="utf-8")
    (target / "third_party").mkdir()
    (target / "third_party" / "vendored.py").write_text(BAD, encoding="utf-8")
    _git_run(["add", "bad.py", "pyproject.toml", "third_party/vendored.py"], target, env)
    passed = _try_repo(hook_repo, target, env, "bad.py", "notes.txt", "third_party/vendored.py")
    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output
    assert "Passed" in output
    assert "DL401" not in output


@pytest.mark.slow
def test_pre_commit_sees_the_project_of_the_staged_file(tmp_path: Path) -> None:
    # The model class lives in models.py, committed earlier; only train.py is staged, and
    # its DL301 findings still block the commit, however the files are split.
    from test_scope import MODELS, TRAIN

    env = _git_env(tmp_path)
    hook_repo = tmp_path / "hook-repo"
    hook_repo.mkdir()
    _copy_checkout(hook_repo, env)

    target = tmp_path / "project"
    target.mkdir()
    _git_run(["init", "-q", "."], target, env)
    (target / "models.py").write_text(MODELS, encoding="utf-8")
    _git_run(["add", "models.py"], target, env)
    _git_run(["commit", "-q", "--no-verify", "-m", "the model"], target, env)
    (target / "train.py").write_text(TRAIN, encoding="utf-8")
    _git_run(["add", "train.py"], target, env)

    failed = _try_repo(hook_repo, target, env, "train.py")
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert output.count(": DL301 ") == 2, output
    assert "models.py:" not in output


def _readme_hook_config() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n### pre-commit\n", 1)[1].split("\n### ", 1)[0]
    return section.split("```yaml\n", 1)[1].split("\n```", 1)[0] + "\n"


def test_readme_local_hook_is_the_published_hook() -> None:
    import yaml
    from pre_commit.clientlib import load_manifest

    (repo,) = yaml.safe_load(_readme_hook_config())["repos"]
    assert repo["repo"] == "local"
    (hook,) = repo["hooks"]
    (published,) = load_manifest(str(REPO_ROOT / ".pre-commit-hooks.yaml"))
    for key in ("id", "name", "entry", "types_or", "require_serial"):
        assert hook[key] == published[key], key


def test_readme_local_hook_blocks_a_commit_with_the_project_in_sight(tmp_path: Path) -> None:
    # The README's configuration as written, with the linter installed where git runs.
    from test_scope import MODELS, TRAIN

    env = _git_env(tmp_path)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    target = tmp_path / "project"
    target.mkdir()
    _git_run(["init", "-q", "."], target, env)
    (target / ".pre-commit-config.yaml").write_text(_readme_hook_config(), encoding="utf-8")
    (target / "models.py").write_text(MODELS, encoding="utf-8")
    _git_run(["add", ".pre-commit-config.yaml", "models.py"], target, env)
    _git_run(["commit", "-q", "--no-verify", "-m", "the model"], target, env)
    (target / "train.py").write_text(TRAIN, encoding="utf-8")
    _git_run(["add", "train.py"], target, env)

    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--color", "never"],
        cwd=target,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "dropout-lint" in output and "Failed" in output
    assert output.count(": DL301 ") == 2, output
    assert output.count(": DL304 ") == 1, output
    assert "models.py:" not in output
