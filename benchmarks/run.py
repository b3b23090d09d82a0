#!/usr/bin/env python3
"""Benchmark dropout-lint against its peers and against a bare libcst parse.

    python benchmarks/run.py [--quick] [--runs N] [--out benchmarks/RESULTS.md]

Standard library only; run it with the project's virtual environment's python (the one
dropout-lint and libcst are installed in). What it does, in order:

1. Downloads the wheels of transformers and timm (pinned below) once, with
   ``pip download``, and unpacks their ``*.py`` files into a cache folder
   (``$DROPOUT_LINT_BENCH_CACHE``, default ``~/.cache/dropout-lint/bench``).
2. Installs each peer (TorchFix, Fixit, torch-preflight, ruff; pinned below) into its
   own virtual environment in that cache, once, after checking that pip would not bring
   torch in.
3. Times whole processes: wall time, CPU time (user + system of the process and the
   children it waited for, from ``os.wait4``), peak RSS of the largest process
   (``ru_maxrss`` from ``os.wait4``) and the peak RSS of the whole process tree
   (sampled from /proc). The variants of one comparison are interleaved
   (A B C A B C ...) and medians are reported.
4. Writes a Markdown report (``--out``) and, with ``--json``, the raw numbers.

``--quick`` is for development (a small corpus and sample, 2 runs). ``--smoke`` is for
CI: dropout-lint alone on three fixture files, one run, no downloads.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PARSE_SCRIPT = HERE / "libcst_parse.py"

CORPUS = (("transformers", "5.24.0"), ("timm", "1.0.31"))
SAMPLE_TARGET = 300  # files the peers lint in a full run
QUICK_CORPUS_TARGET = 240  # files standing in for the whole corpus with --quick
QUICK_SAMPLE_TARGET = 40  # files the peers lint with --quick
DEFAULT_RUNS = 3
QUICK_RUNS = 2
PEER_SECONDS_PER_FILE = 0.5  # rough cost of a peer, per file and process (see README)
# "Not growing with the number of files": twice the files (the same ones) take at most
# 15 % more at peak than once; from half to full corpus, the peak grows by at most 15 % of
# the half corpus's peak more than a bare parse's does (see the memory group).
MEMORY_GROWTH_LIMIT = 0.15
TWICE = ("a", "b")  # the folders that hold the two copies of the half corpus
MB = 1024 * 1024

SMALL_MODEL = '''\
"""A small model file: what a pre-commit hook sees when one file changed."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self, features: int = 784, hidden: int = 256, classes: int = 10) -> None:
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.dropout = nn.Dropout(0.3)
        self.fc2 = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc1(x))
        x = self.dropout(x)
        x = F.relu(self.fc2(x))
        x = F.dropout(x, p=0.2, training=self.training)
        return self.head(x)


def evaluate(model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(batch).argmax(dim=1)


def train_step(model, batch, target, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(batch), target)
    loss.backward()
    optimizer.step()
    return loss.item()
'''


class BenchError(RuntimeError):
    """A step of the benchmark could not be done; the message says which and why."""


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- measuring


@dataclasses.dataclass
class Sample:
    """One measured run of one command."""

    wall: float  # seconds, from just before the fork to the reaping of the process
    cpu: float  # user + system seconds of the process and its waited-for children
    maxrss_kb: int  # ru_maxrss from wait4: the largest single process of the tree
    tree_rss_kb: int  # peak of the summed RSS of the process tree, sampled; 0 if unknown
    rc: int  # exit status (negative: killed by that signal)
    stdout: str  # where its output went
    stderr: str
    other_cpu: float = 0.0  # CPU seconds other processes of the machine used meanwhile
    code_changed: bool = False  # dropout-lint's source differed from the start's


# Set by benchmark(): every measured command runs with these on top of os.environ. The
# harness drops PYTHONDONTWRITEBYTECODE and points PYTHONPYCACHEPREFIX at its cache, so
# that every tool runs from bytecode as an installed package does (the checkout under
# test must not get __pycache__ folders, and some environments forbid writing them).
CHILD_ENV: Dict[str, str] = {}
CHILD_ENV_DROP = ("PYTHONDONTWRITEBYTECODE",)


def _busy_cpu_seconds() -> Optional[float]:
    """CPU seconds the whole machine spent busy since boot (/proc/stat), or None."""
    try:
        with open("/proc/stat") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [int(value) for value in fields[1:9]]  # user nice system idle iowait irq softirq steal
    busy = values[0] + values[1] + values[2] + values[5] + values[6] + values[7]
    return busy / os.sysconf("SC_CLK_TCK")


def _self_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


class CodeWatch:
    """Notices when dropout-lint's own source changes under the benchmark (people edit the
    checkout while it runs): the same stamp as dropout-lint's cache uses (size and
    modification time of each module)."""

    def __init__(self) -> None:
        import importlib.util

        spec = importlib.util.find_spec("dropout_lint")
        origin = spec.origin if spec is not None and spec.origin else None
        self.package = Path(origin).parent if origin else ROOT / "dropout_lint"
        self.initial = self.stamp()
        self.changes: List[str] = []
        self._last = self.initial

    def stamp(self) -> str:
        parts = []
        for path in sorted(self.package.rglob("*.py")):
            try:
                info = path.stat()
            except OSError:
                continue
            parts.append(f"{path}:{info.st_size}:{info.st_mtime_ns}")
        return "\n".join(parts)

    def check(self, where: str) -> bool:
        """Whether the source differs from the start's; records each new change."""
        now = self.stamp()
        if now != self._last:
            self._last = now
            self.changes.append(f"{time.strftime('%H:%M:%S')} before {where}")
            log(f"  note: dropout-lint's source changed (before {where})")
        return now != self.initial


WATCH: Optional[CodeWatch] = None


class TreeRssSampler(threading.Thread):
    """Polls the RSS of a process and its descendants, summed, and keeps the peak.

    Uses /proc/PID/task/TID/children, so one tick reads a handful of small files; at
    the default interval its cost is far below the noise of the measurement. A peak
    shorter than the interval can be missed: ``ru_maxrss`` (largest single process) is
    exact, this one is a sample.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self._stop_event = threading.Event()
        self._page_kb = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4
        self.available = os.path.isdir(f"/proc/{pid}/task")

    def _tree(self) -> List[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for task in tasks:
                try:
                    with open(f"/proc/{pid}/task/{task}/children") as handle:
                        todo.extend(int(child) for child in handle.read().split())
                except (OSError, ValueError):
                    pass
        return pids

    def _rss_kb(self) -> int:
        total = 0
        for pid in self._tree():
            try:
                with open(f"/proc/{pid}/statm") as handle:
                    total += int(handle.read().split()[1]) * self._page_kb
            except (OSError, ValueError, IndexError):
                pass
        return total

    def run(self) -> None:
        if not self.available:
            return
        while not self._stop_event.is_set():
            self.peak_kb = max(self.peak_kb, self._rss_kb())
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def run_once(
    cmd: Sequence[str],
    cwd: Path,
    log_stem: Path,
    env: Optional[Dict[str, str]] = None,
    timeout: float = 7200.0,
) -> Sample:
    """Run ``cmd`` once and measure it: output to ``log_stem``.out/.err, stdin closed."""
    log_stem.parent.mkdir(parents=True, exist_ok=True)
    out_path, err_path = Path(f"{log_stem}.out"), Path(f"{log_stem}.err")
    full_env = {key: value for key, value in os.environ.items() if key not in CHILD_ENV_DROP}
    full_env.update(CHILD_ENV)
    full_env.update(env or {})
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        busy_before, self_before = _busy_cpu_seconds(), _self_cpu_seconds()
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd),
            cwd=str(cwd),
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group: a timeout or ^C ends all of it
        )
        sampler = TreeRssSampler(proc.pid)
        sampler.start()
        killer = threading.Timer(timeout, _kill_group, (proc.pid,))
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            _kill_group(proc.pid)
            proc.wait()
            raise
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        busy_after, self_after = _busy_cpu_seconds(), _self_cpu_seconds()
        sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not reap it again
    cpu = usage.ru_utime + usage.ru_stime
    other = 0.0
    if busy_before is not None and busy_after is not None:
        other = max(0.0, (busy_after - busy_before) - cpu - (self_after - self_before))
    return Sample(
        other_cpu=other,
        wall=wall,
        cpu=cpu,
        maxrss_kb=int(usage.ru_maxrss),  # kilobytes on Linux
        tree_rss_kb=sampler.peak_kb,
        rc=proc.returncode,
        stdout=str(out_path),
        stderr=str(err_path),
    )


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


@dataclasses.dataclass
class Variant:
    """One command of a comparison, measured several times."""

    key: str  # unique, used for log names and references
    tool: str
    version: str
    label: str  # what this row is
    cmd: List[str]
    cwd: Path
    files: int
    procs: int
    env: Dict[str, str] = dataclasses.field(default_factory=dict)
    ref: Optional[str] = None  # key of the dropout-lint row this one is compared with
    prepare: Optional[Callable[[int], None]] = None  # called, unmeasured, before run i
    samples: List[Sample] = dataclasses.field(default_factory=list)
    note: str = ""

    def median(self, attribute: str) -> float:
        values = [getattr(sample, attribute) for sample in self.samples]
        return statistics.median(values) if values else float("nan")

    @property
    def wall(self) -> float:
        return self.median("wall")

    @property
    def cpu(self) -> float:
        return self.median("cpu")

    def to_json(self) -> dict:
        return {
            "key": self.key,
            "tool": self.tool,
            "version": self.version,
            "label": self.label,
            "cmd": self.cmd,
            "cwd": str(self.cwd),
            "files": self.files,
            "procs": self.procs,
            "env": self.env,
            "ref": self.ref,
            "note": self.note,
            "samples": [dataclasses.asdict(sample) for sample in self.samples],
        }


def measure(
    variants: Sequence[Variant], runs: int, logs: Path, timeout: float = 7200.0
) -> None:
    """Interleave the variants: A B C A B C ... ``runs`` rounds, appending to samples."""
    for round_index in range(runs):
        for variant in variants:
            if variant.prepare is not None:
                variant.prepare(round_index)
            changed = (
                WATCH.check(f"{variant.key} run {round_index + 1}")
                if WATCH is not None and variant.tool == "dropout-lint"
                else False
            )
            sample = run_once(
                variant.cmd,
                variant.cwd,
                logs / f"{variant.key}.{len(variant.samples)}",
                env=variant.env,
                timeout=timeout,
            )
            sample.code_changed = changed
            variant.samples.append(sample)
            log(
                f"  {variant.key:<28} run {round_index + 1}/{runs}: wall {sample.wall:8.3f} s, "
                f"cpu {sample.cpu:8.3f} s, rss {sample.maxrss_kb / 1024:7.1f} MB, rc {sample.rc}"
                + (f", others used {sample.other_cpu / sample.wall:.2f} cores" if sample.other_cpu > 0.05 * sample.wall else "")
            )


def pair_ratios(variant: Variant, reference: Variant) -> List[float]:
    """Per-round wall(variant) / wall(reference) of interleaved runs."""
    return [
        mine.wall / theirs.wall
        for mine, theirs in zip(variant.samples, reference.samples)
        if theirs.wall > 0
    ]


# ----------------------------------------------------------------------------- corpus


def cache_root(explicit: Optional[str]) -> Path:
    if explicit:
        return Path(explicit).expanduser().resolve()
    configured = os.environ.get("DROPOUT_LINT_BENCH_CACHE")
    if configured:
        return Path(configured).expanduser().resolve()
    return Path.home() / ".cache" / "dropout-lint" / "bench"


def _pip_quiet(cmd: Sequence[str], what: str, timeout: float = 1800) -> str:
    result = subprocess.run(
        list(cmd), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
        raise BenchError(f"{what} failed (exit {result.returncode}):\n{tail}")
    return result.stdout


def fetch_corpus(cache: Path) -> Path:
    """Download and unpack the pinned wheels once; return the folder holding their *.py."""
    wheels = cache / "wheels"
    source = cache / "src"
    stamp = source / ".complete"
    wanted = " ".join(f"{name}=={version}" for name, version in CORPUS)
    if stamp.is_file() and stamp.read_text() == wanted:
        return source
    wheels.mkdir(parents=True, exist_ok=True)
    if source.exists():
        shutil.rmtree(source)
    source.mkdir(parents=True)
    for name, version in CORPUS:
        found = sorted(wheels.glob(f"{name}-{version}-*.whl"))
        if not found:
            log(f"downloading {name}=={version} ...")
            _pip_quiet(
                [
                    sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary",
                    ":all:", "-d", str(wheels), f"{name}=={version}",
                ],
                f"pip download {name}=={version}",
            )
            found = sorted(wheels.glob(f"{name}-{version}-*.whl"))
        if not found:
            raise BenchError(f"pip download left no wheel of {name}=={version} in {wheels}")
        with zipfile.ZipFile(found[0]) as archive:
            members = [
                member
                for member in archive.namelist()
                if member.endswith(".py") and ".dist-info/" not in member
            ]
            for member in members:
                target = source / member
                if target.exists():
                    raise BenchError(f"{member} is in more than one corpus wheel")
                archive.extract(member, source)
        log(f"unpacked {len(members)} .py files of {found[0].name}")
    stamp.write_text(wanted)
    return source


def list_py(folder: Path) -> List[str]:
    """Every *.py below ``folder``, as sorted POSIX paths relative to it."""
    return sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*.py")
        if not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def every_kth(files: Sequence[str], target: int) -> Tuple[List[str], int]:
    """A deterministic sample of about ``target`` files: every k-th of the sorted list."""
    step = max(1, round(len(files) / target)) if target > 0 else 1
    return list(files[::step]), step


def copy_files(
    source: Path, files: Iterable[str], dest: Path, source_of: Callable[[str], str] = lambda rel: rel
) -> None:
    """Copies each of ``files`` (relative paths under ``dest``) from ``source_of(rel)``
    under ``source``."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / source_of(rel), target)


def size_mb(folder: Path, files: Iterable[str]) -> float:
    return sum((folder / rel).stat().st_size for rel in files) / 1e6


# ----------------------------------------------------------------------------- tools


@dataclasses.dataclass(frozen=True)
class Peer:
    key: str
    name: str
    requirement: str
    dist: str
    exe: str
    procs_note: str

    def command(self, venv: Path, procs: int, paths: Sequence[str]) -> Tuple[List[str], Dict[str, str]]:
        exe = str(venv / "bin" / self.exe)
        if self.key == "torchfix":
            return [exe, "--jobs", str(procs), *paths], {}
        if self.key == "fixit":
            return [exe, "lint", *paths], {}
        if self.key == "torch-preflight":
            return [exe, "check", "-j", str(procs), *paths], {}
        if self.key == "ruff":
            return [exe, "check", "--select", "ALL", "--no-cache", *paths], {
                "RAYON_NUM_THREADS": str(procs)
            }
        raise AssertionError(self.key)

    def shown_command(self, procs: int) -> str:
        cmd, env = self.command(Path("VENV"), procs, ["FILES..."])
        cmd[0] = self.exe
        prefix = "".join(f"{name}={value} " for name, value in env.items())
        return prefix + " ".join(cmd)


PEERS = (
    Peer("torchfix", "TorchFix", "torchfix==0.7.0", "TorchFix", "torchfix",
         "`--jobs P` (libcst's parallel codemod runner)"),
    Peer("fixit", "Fixit", "fixit==2.2.1", "fixit", "fixit",
         "no option: a process pool of os.cpu_count() workers (trailrunner)"),
    Peer("torch-preflight", "torch-preflight", "torch-preflight==0.5.0", "torch-preflight",
         "torch-preflight", "`-j P` (process pool)"),
    Peer("ruff", "ruff", "ruff==0.17.6", "ruff", "ruff",
         "threads, capped with RAYON_NUM_THREADS=P"),
)

_FORBIDDEN = {"torch", "pytorch", "torchvision", "torchaudio", "triton"}

_INSPECT = r"""
import importlib.metadata as m, json, re, sys
dist = sys.argv[1]
reqs = m.requires(dist) or []
hard = [r for r in reqs if not re.search(r"extra\s*==", r)]
print(json.dumps({
    "version": m.version(dist),
    "requires": hard,
    "installed": sorted({(d.metadata["Name"] or "").lower() for d in m.distributions()}),
}))
"""


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    return _norm(re.split(r"[\s;<>=!~\[(]", requirement.strip(), maxsplit=1)[0])


def install_peer(cache: Path, peer: Peer) -> Tuple[Path, dict]:
    """A venv of its own for ``peer`` (created once); returns it and what is installed."""
    venv = cache / "venvs" / peer.requirement.replace("==", "-")
    python = venv / "bin" / "python"
    stamp = venv / ".bench-ok"
    if not (stamp.is_file() and python.exists()):
        if venv.exists():
            shutil.rmtree(venv)
        log(f"installing {peer.requirement} into {venv} ...")
        _pip_quiet([sys.executable, "-m", "venv", str(venv)], f"python -m venv {venv}")
        report = venv / "pip-dry-run.json"
        _pip_quiet(
            [str(python), "-m", "pip", "install", "--quiet", "--dry-run", "--report",
             str(report), peer.requirement],
            f"pip install --dry-run {peer.requirement}",
        )
        would = [
            _norm(item["metadata"]["name"])
            for item in json.loads(report.read_text()).get("install", [])
        ]
        bad = sorted(set(would) & _FORBIDDEN | {name for name in would if name.startswith("nvidia-")})
        if bad:
            shutil.rmtree(venv)
            raise BenchError(f"{peer.requirement} would pull {', '.join(bad)}: not installed")
        _pip_quiet(
            [str(python), "-m", "pip", "install", "--quiet", peer.requirement],
            f"pip install {peer.requirement}",
        )
    info = json.loads(
        _pip_quiet([str(python), "-c", _INSPECT, peer.dist], f"inspect {peer.dist}")
    )
    deps = {_requirement_name(requirement) for requirement in info["requires"]}
    installed = {_norm(name) for name in info["installed"]}
    bad = sorted((deps | installed) & _FORBIDDEN)
    if bad:
        raise BenchError(f"{peer.requirement} depends on or installed {', '.join(bad)}")
    try:
        shown = subprocess.run(
            [str(venv / "bin" / peer.exe), "--version"], capture_output=True, text=True,
            timeout=120, stdin=subprocess.DEVNULL,
        ).stdout.strip().splitlines()
        info["version_output"] = shown[0] if shown else ""
    except (OSError, subprocess.TimeoutExpired):
        info["version_output"] = ""
    info["requires_names"] = sorted(deps)
    stamp.write_text(peer.requirement)
    return venv, info


class DropoutLint:
    """How to call the dropout-lint CLI, and which options this version has."""

    def __init__(self, explicit: Optional[str]) -> None:
        if explicit:
            self.exe = explicit.split()
        else:
            beside = Path(sys.executable).with_name("dropout-lint")
            self.exe = [str(beside)] if beside.exists() else [sys.executable, "-m", "dropout_lint"]
        help_text = self._capture([*self.exe, "check", "--help"])
        if "Usage" not in help_text:
            raise BenchError(f"`{' '.join(self.exe)} check --help` failed:\n{help_text}")
        self.options = set(re.findall(r"--[a-z][a-z0-9-]*", help_text))
        self.version = self._capture([*self.exe, "--version"]).strip().split()[-1:] or ["?"]
        self.version = self.version[0]
        self.messages: List[str] = []
        if "--no-cache" not in self.options:
            self.messages.append(
                "this dropout-lint has no `--no-cache`: the cold runs use its default, and "
                "the harness deletes `.dropout_lint_cache/` in their folder before each run."
            )
        if "--cache-dir" not in self.options:
            self.messages.append(
                "this dropout-lint has no `--cache-dir`: the cache, if any, goes where its "
                "default puts it (the harness runs it with cwd = the corpus copy)."
            )

    @staticmethod
    def _capture(cmd: Sequence[str]) -> str:
        try:
            result = subprocess.run(
                list(cmd), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
            )
        except OSError as exc:
            return str(exc)
        return result.stdout + result.stderr

    @property
    def has_cache(self) -> bool:
        return "--no-cache" in self.options or "--cache-dir" in self.options

    def command(
        self,
        paths: Sequence[str],
        jobs: Optional[int],
        cache_dir: Optional[Path] = None,
        fmt: str = "concise",
        quiet: bool = True,
        extra: Sequence[str] = (),
    ) -> List[str]:
        """``cache_dir`` None: cold (``--no-cache``); a path: the cache kept there."""
        cmd = [*self.exe, "check"]
        if cache_dir is None:
            if "--no-cache" in self.options:
                cmd.append("--no-cache")
        elif "--cache-dir" in self.options:
            cmd += ["--cache-dir", str(cache_dir)]
        if jobs is not None:
            cmd += ["--jobs", str(jobs)]
        cmd.append("--exit-zero")
        if quiet:
            cmd.append("-q")
        cmd += ["--format", fmt, *extra, *paths]
        return cmd

    def clear_cache_of(self, folder: Path) -> Callable[[int], None]:
        """For cold runs of a dropout-lint without ``--no-cache``: remove any cache first."""

        def prepare(_round: int) -> None:
            if "--no-cache" not in self.options:
                shutil.rmtree(folder / ".dropout_lint_cache", ignore_errors=True)

        return prepare


def libcst_version() -> str:
    try:
        from importlib.metadata import version

        return version("libcst")
    except Exception:
        return "?"


def parse_command(procs: int, paths: Sequence[str]) -> List[str]:
    return [sys.executable, str(PARSE_SCRIPT), str(procs), *paths]


# ----------------------------------------------------------------------------- findings


def findings_of_json(path: str) -> Optional[List[str]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8") or "[]")
    except (OSError, ValueError):
        return None
    if isinstance(data, dict):  # tolerate a wrapper object
        data = data.get("diagnostics") or data.get("results") or []
    return sorted(json.dumps(item, sort_keys=True) for item in data)


def lines_of(path: str) -> List[str]:
    try:
        return sorted(line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip())
    except OSError:
        return []


@dataclasses.dataclass
class FindingsCheck:
    name: str
    runs: Dict[str, int]  # label -> number of findings (or lines)
    identical: bool
    detail: str = ""


def compare(name: str, outputs: Dict[str, Optional[List[str]]]) -> FindingsCheck:
    counts = {label: (len(found) if found is not None else -1) for label, found in outputs.items()}
    valid = [found for found in outputs.values() if found is not None]
    identical = len(valid) == len(outputs) and all(found == valid[0] for found in valid)
    detail = ""
    if not identical and valid:
        base_label = next(iter(outputs))
        base = set(outputs[base_label] or [])
        for label, found in outputs.items():
            if found is None:
                detail += f"{label}: output unreadable. "
                continue
            extra, missing = set(found) - base, base - set(found)
            if extra or missing:
                sample = next(iter(extra or missing))[:160]
                detail += f"{label} vs {base_label}: +{len(extra)} -{len(missing)} (e.g. {sample!r}). "
    return FindingsCheck(name, counts, identical, detail.strip())


# ----------------------------------------------------------------------------- the benchmark


@dataclasses.dataclass
class Group:
    key: str
    title: str
    intro: str
    variants: List[Variant]
    ratios: List[Tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (text, a, b)


@dataclasses.dataclass
class Results:
    mode: str
    argv: List[str]
    started: str
    machine: Dict[str, str]
    corpus: Dict[str, object]
    tools: List[Dict[str, str]]
    groups: List[Group]
    checks: List[FindingsCheck]
    messages: List[str]
    extra: Dict[str, object]

    def variant(self, key: str) -> Optional[Variant]:
        for group in self.groups:
            for variant in group.variants:
                if variant.key == key:
                    return variant
        return None


def machine_info() -> Dict[str, str]:
    cpu = platform.processor() or platform.machine()
    memory = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": f"{os.cpu_count()} (usable by this process: {affinity})",
        "memory": memory,
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
    }


def choose_touch_file(folder: Path, files: Sequence[str]) -> str:
    """A model file from the middle of the list, one the linter has to parse."""
    ordered = list(files[len(files) // 2:]) + list(files[: len(files) // 2])
    for rel in ordered:
        try:
            text = (folder / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "Dropout" in text or "dropout" in text:
            return rel
    return ordered[0]


def _append_comment(path: Path, tag: str) -> Callable[[int], None]:
    def prepare(round_index: int) -> None:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"# dropout-lint benchmark edit {tag} {round_index} {time.time_ns()}\n")

    return prepare


def benchmark(args: argparse.Namespace) -> Results:
    started = datetime.datetime.now().astimezone()
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    runs = args.runs or (1 if args.smoke else QUICK_RUNS if args.quick else DEFAULT_RUNS)
    procs = args.procs or os.cpu_count() or 1
    global WATCH
    messages: List[str] = []
    extra: Dict[str, object] = {"runs": runs, "procs": procs}
    if hasattr(os, "getloadavg"):
        extra["load_before"] = [round(value, 2) for value in os.getloadavg()]
    dl = DropoutLint(args.dropout_lint)
    messages.extend(dl.messages)
    WATCH = CodeWatch()

    # ---- the folders
    if args.smoke:
        work = Path(tempfile.mkdtemp(prefix="dropout-lint-bench-smoke-"))
        source = work / "src"
        fixture_files = [Path(path).resolve() for path in args.files] if args.files else smoke_fixtures()
        source.mkdir()
        for index, path in enumerate(fixture_files):
            shutil.copy2(path, source / f"f{index}_{path.name}")
        all_files = list_py(source)
        corpus_files, corpus_step = all_files, 1
        sample_files, sample_step = all_files, 1
        corpus_desc: Dict[str, object] = {
            "what": "fixture files: " + ", ".join(str(p.relative_to(ROOT)) if ROOT in p.parents else str(p) for p in fixture_files),
        }
    else:
        cache = cache_root(args.cache)
        source = fetch_corpus(cache)
        work = cache / "work"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        all_files = list_py(source)
        if args.quick:
            corpus_files, corpus_step = every_kth(all_files, QUICK_CORPUS_TARGET)
        else:
            corpus_files, corpus_step = all_files, 1
        sample_target = args.sample or (QUICK_SAMPLE_TARGET if args.quick else SAMPLE_TARGET)
        sample_files, sample_step = every_kth(all_files, sample_target)
        corpus_desc = {
            "what": " + ".join(f"{name} {version}" for name, version in CORPUS)
            + " (the wheels' *.py files)",
            "cache": str(cache),
        }
    half_files = corpus_files[::2]
    corpus_desc.update(
        {
            "all_files": len(all_files),
            "all_mb": round(size_mb(source, all_files), 1),
            "corpus_files": len(corpus_files),
            "corpus_step": corpus_step,
            "corpus_mb": round(size_mb(source, corpus_files), 1),
            "half_files": len(half_files),
            "twice_files": 2 * len(half_files),
            "sample_files": len(sample_files),
            "sample_step": sample_step,
            "sample_mb": round(size_mb(source, sample_files), 1),
        }
    )
    log(
        f"mode {mode}: {len(corpus_files)} corpus files (of {len(all_files)}), "
        f"{len(sample_files)} sample files, {runs} run(s), {procs} processes"
    )
    full_dir, warm_dir, half_dir = work / "corpus", work / "warm", work / "half"
    twice_dir = work / "twice"
    sample_dir, small_dir, logs = work / "sample", work / "small", work / "logs"
    pycache = (work if args.smoke else cache_root(args.cache)) / "pycache"
    CHILD_ENV.clear()
    CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(pycache)
    extra["bytecode"] = (
        f"every command ran with PYTHONPYCACHEPREFIX={pycache}"
        + (" and without the PYTHONDONTWRITEBYTECODE=1 of this environment" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "")
        + ", after one unmeasured warm-up run of each tool, so that each runs from bytecode "
        "as an installed package does"
    )
    copy_files(source, corpus_files, full_dir)
    copy_files(source, corpus_files, warm_dir)
    copy_files(source, half_files, half_dir)
    copy_files(source, [f"{copy}/{rel}" for copy in TWICE for rel in half_files], twice_dir, source_of=lambda rel: rel.split("/", 1)[1])
    copy_files(source, sample_files, sample_dir)
    small_dir.mkdir(parents=True, exist_ok=True)
    (small_dir / "model.py").write_text(SMALL_MODEL, encoding="utf-8")
    logs.mkdir(parents=True, exist_ok=True)

    tools: List[Dict[str, str]] = [
        {
            "tool": "dropout-lint",
            "version": dl.version,
            "command": " ".join(Path(part).name if i == 0 else part for i, part in enumerate(dl.command(["PATHS..."], procs))),
            "processes": "`--jobs P`",
            "deps": "this checkout",
        },
        {
            "tool": "libcst parse",
            "version": libcst_version(),
            "command": "python benchmarks/libcst_parse.py P PATHS...",
            "processes": "multiprocessing.Pool(P); 1: in-process",
            "deps": "libcst of the project's venv",
        },
    ]
    groups: List[Group] = []
    checks: List[FindingsCheck] = []

    # ---- peers on the sample
    peers: List[Tuple[Peer, Path, dict]] = []
    if not args.smoke and not args.no_peers:
        for peer in PEERS:
            if args.peers and peer.key not in args.peers:
                continue
            try:
                venv, info = install_peer(cache_root(args.cache), peer)
            except BenchError as exc:
                messages.append(f"{peer.name} left out: {exc}")
                log(f"{peer.name} left out: {exc}")
                continue
            peers.append((peer, venv, info))
            tools.append(
                {
                    "tool": peer.name,
                    "version": info["version"],
                    "command": peer.shown_command(procs),
                    "processes": peer.procs_note,
                    "deps": ", ".join(info["requires_names"]) or "none",
                }
            )
    if peers or args.smoke:
        sample_paths = list(sample_files)
        sample_variants = [
            Variant(
                "dl-sample-cold", "dropout-lint", dl.version, f"cold, --jobs {procs}",
                dl.command(sample_paths, procs), sample_dir, len(sample_files), procs,
                prepare=dl.clear_cache_of(sample_dir),
            ),
            Variant(
                "parse-sample", "libcst parse", libcst_version(), f"parse only, {procs} processes",
                parse_command(procs, sample_paths), sample_dir, len(sample_files), procs,
                ref="dl-sample-cold",
            ),
        ]
        for peer, venv, info in peers:
            cmd, env = peer.command(venv, procs, sample_paths)
            note = ""
            if peer.key == "fixit" and procs != (os.cpu_count() or 1):
                note = f"Fixit has no process option: it used {os.cpu_count()} processes"
            sample_variants.append(
                Variant(
                    f"peer-{peer.key}", peer.name, info["version"], "default rules" if peer.key != "ruff" else "--select ALL",
                    cmd, sample_dir, len(sample_files), procs, env=env, ref="dl-sample-cold", note=note,
                )
            )
        minutes = len(all_files) * PEER_SECONDS_PER_FILE / max(procs, 1) / 60
        slow = [peer for peer, _, _ in peers if peer.key != "ruff"]
        hours = minutes * len(slow) * runs / 60
        groups.append(
            Group(
                "peers",
                f"dropout-lint and its peers on the same {len(sample_files)} files, {procs} processes",
                (
                    f"The sample: {every(sample_step)} of the sorted corpus, "
                    f"{len(sample_files)} files, {corpus_desc['sample_mb']} MB. The slow peers take "
                    f"about {PEER_SECONDS_PER_FILE} s per file per process or more, so one run of one of "
                    f"them over all {len(all_files)} files would take {minutes:.0f} min or more on {procs} "
                    f"processes, and {len(slow)} such peers × {runs} runs {hours:.1f} h or more; the peers "
                    "therefore run on this sample only, and dropout-lint is timed on the very same "
                    "files (the projection from this run's numbers is in the notes)."
                )
                if not args.smoke
                else "Smoke run: dropout-lint alone on fixture files.",
                sample_variants,
            )
        )
        warm_up(sample_variants, sample_files[:3], logs)
        log(f"measuring the peers' group ({len(sample_variants)} commands x {runs}) ...")
        measure(sample_variants, runs, logs, args.timeout)

    # ---- the corpus: cold, jobs, bare parse, warm, one file changed
    dl_cache = warm_dir / ".dropout_lint_cache"
    corpus_variants = [
        Variant(
            "dl-cold-j1", "dropout-lint", dl.version, "cold, --jobs 1",
            dl.command(["."], 1), full_dir, len(corpus_files), 1,
            prepare=dl.clear_cache_of(full_dir),
        ),
        Variant(
            f"dl-cold-j{procs}", "dropout-lint", dl.version, f"cold, --jobs {procs}",
            dl.command(["."], procs), full_dir, len(corpus_files), procs,
            prepare=dl.clear_cache_of(full_dir), ref="dl-cold-j1" if procs != 1 else None,
        ),
        Variant(
            "parse-j1", "libcst parse", libcst_version(), "parse only, 1 process",
            parse_command(1, ["."]), full_dir, len(corpus_files), 1, ref="dl-cold-j1",
        ),
    ]
    if procs != 1:
        corpus_variants.append(
            Variant(
                f"parse-j{procs}", "libcst parse", libcst_version(), f"parse only, {procs} processes",
                parse_command(procs, ["."]), full_dir, len(corpus_files), procs,
                ref=f"dl-cold-j{procs}",
            )
        )
    else:
        corpus_variants.pop(1)
    cold_p = f"dl-cold-j{procs}" if procs != 1 else "dl-cold-j1"
    if "--no-prefilter" in dl.options and not args.smoke:
        corpus_variants.append(
            Variant(
                "dl-cold-j1-noprefilter", "dropout-lint", dl.version, "cold, --jobs 1, --no-prefilter",
                dl.command(["."], 1, extra=["--no-prefilter"]), full_dir, len(corpus_files), 1,
                prepare=dl.clear_cache_of(full_dir), ref="dl-cold-j1",
            )
        )
    touch_rel = choose_touch_file(warm_dir, corpus_files)
    cache_works = False
    fill_stamp = [""]
    refills = [0]

    def refill_if_changed(round_index: int) -> None:
        """dropout-lint's cache is keyed on its own source: after an edit, fill it again."""
        if WATCH is not None and fill is not None and WATCH.stamp() != fill_stamp[0]:
            log("  dropout-lint's source changed since the cache was filled: filling it again (unmeasured)")
            fill_stamp[0] = WATCH.stamp()
            run_once(fill.cmd, warm_dir, logs / f"dl-cache-refill.{refills[0]}", timeout=args.timeout)
            refills[0] += 1

    def refill_then_touch(round_index: int) -> None:
        refill_if_changed(round_index)
        _append_comment(warm_dir / touch_rel, "touch")(round_index)

    warm_up(corpus_variants, corpus_files[:3], logs)
    if dl.has_cache:
        log("filling the cache in the warm copy (one run, measured apart) ...")
        shows_count = "--no-show-source" in dl.options
        fill = Variant(
            "dl-cache-fill", "dropout-lint", dl.version, f"first run with the cache on, --jobs {procs}",
            dl.command(
                ["."], procs, cache_dir=dl_cache, quiet=False,
                fmt="text" if shows_count else "concise",
                extra=["--no-show-source"] if shows_count else [],
            ),
            warm_dir, len(corpus_files), procs, ref=cold_p,
        )
        fill_stamp[0] = WATCH.stamp()
        measure([fill], 1, logs, args.timeout)
        cache_works = dl_cache.exists() or (warm_dir / ".dropout_lint_cache").exists()
        summary = re.findall(r"in (?:\d+ of )?(\d+) files?\.", Path(fill.samples[0].stdout).read_text(errors="replace"))
        if summary:
            extra["files_dropout_lint_checked"] = int(summary[-1])
        if not cache_works:
            messages.append(
                "dropout-lint wrote no `.dropout_lint_cache/` in the warm copy: the warm runs "
                "below measure a cold run, and the warm targets are n/a."
            )
    else:
        fill = None
        messages.append(
            "this dropout-lint has no cache options (`--no-cache`, `--cache-dir`): the warm "
            "runs measure a cold run, and the warm targets are n/a."
        )
    corpus_variants += [
        Variant(
            "dl-warm", "dropout-lint", dl.version, f"warm, nothing changed, --jobs {procs}",
            dl.command(["."], procs, cache_dir=dl_cache), warm_dir, len(corpus_files), procs,
            ref=cold_p, prepare=refill_if_changed,
        ),
        Variant(
            "dl-warm-touched", "dropout-lint", dl.version, f"warm, one file changed, --jobs {procs}",
            dl.command(["."], procs, cache_dir=dl_cache), warm_dir, len(corpus_files), procs,
            ref=cold_p, prepare=refill_then_touch,
            note=f"`warm, one file changed`: before each run a new comment line is appended to {touch_rel}",
        ),
    ]
    groups.append(
        Group(
            "corpus",
            f"dropout-lint on the {'corpus' if mode == 'full' else 'stand-in corpus'} "
            f"({len(corpus_files)} files): cold, processes, bare libcst parse, warm",
            (
                f"All of it: {len(corpus_files)} files, {corpus_desc['corpus_mb']} MB."
                if corpus_step == 1
                else f"{every(corpus_step).capitalize()} of the sorted corpus: {len(corpus_files)} files, "
                f"{corpus_desc['corpus_mb']} MB ({mode} run)."
            )
            + " Linted as a folder (`.`, cwd = a copy of it). Cold runs pass `--no-cache`; warm "
            "runs use a cache in a second copy, filled by one run before the measured ones.",
            list(corpus_variants),
        )
    )
    log(f"measuring the corpus group ({len(corpus_variants)} commands x {runs}) ...")
    measure(corpus_variants, runs, logs, args.timeout)
    if refills[0]:
        messages.append(
            f"dropout-lint's source changed while the warm runs went on: the cache was filled "
            f"again {refills[0]} time(s) (unmeasured) so that each warm run read a cache of the "
            "code it ran."
        )
    if fill is not None:
        groups[-1].variants.insert(len(corpus_variants) - 2, fill)

    # ---- one small file: the pre-commit case
    small_cache = small_dir / ".dropout_lint_cache"
    small_warm = dl.command(["model.py"], None, cache_dir=small_cache, extra=["--force-exclude"])
    small_variants = [
        Variant(
            "dl-small", "dropout-lint", dl.version, "one ~35-line model file, default --jobs",
            [c for c in dl.command(["model.py"], None)], small_dir, 1, 1,
        ),
        Variant(
            "dl-small-warm", "dropout-lint", dl.version,
            "the same file, cache warm, as the pre-commit hook runs it (--force-exclude)",
            small_warm, small_dir, 1, 1, ref="dl-small",
        ),
        Variant(
            "python-startup", "python -c pass", platform.python_version(), "interpreter start-up alone",
            [sys.executable, "-c", "pass"], small_dir, 0, 1,
        ),
        Variant(
            "libcst-import", "import libcst", libcst_version(), "interpreter start-up and `import libcst`",
            [sys.executable, "-c", "import libcst"], small_dir, 0, 1,
        ),
    ]
    small_runs = max(runs, 5)
    run_once(small_warm, small_dir, logs / "dl-small-warm-fill")  # fills the cache, unmeasured
    groups.append(
        Group(
            "small",
            "One small file (the pre-commit case)",
            "A ~35-line model file, cold (`--no-cache`) and with the cache filled by one "
            f"unmeasured run, interpreter start-up included; {small_runs} runs. "
            "`python -c pass` is the start-up floor; `python -c \"import libcst\"` "
            "the floor of any linter built on libcst (it builds its node classes on import).",
            small_variants,
        )
    )
    log(f"measuring the small-file group ({len(small_variants)} commands x {small_runs}) ...")
    measure(small_variants, small_runs, logs, args.timeout)

    # ---- memory: half, the same half twice, and full
    memory_variants = []
    for jobs in sorted({1, procs}):
        memory_variants += [
            Variant(
                f"dl-half-j{jobs}", "dropout-lint", dl.version, f"cold, --jobs {jobs}, half corpus",
                dl.command(["."], jobs), half_dir, len(half_files), jobs, prepare=dl.clear_cache_of(half_dir),
            ),
            Variant(
                f"dl-twice-j{jobs}", "dropout-lint", dl.version, f"cold, --jobs {jobs}, the half corpus twice",
                dl.command(["."], jobs), twice_dir, 2 * len(half_files), jobs,
                prepare=dl.clear_cache_of(twice_dir),
            ),
            Variant(
                f"parse-half-j{jobs}", "libcst parse", libcst_version(),
                f"parse only, {jobs} process{'es' if jobs > 1 else ''}, half corpus",
                parse_command(jobs, ["."]), half_dir, len(half_files), jobs,
            ),
        ]
    memory_runs = 1
    log(f"measuring the memory group ({len(memory_variants)} commands x {memory_runs}) ...")
    measure(memory_variants, memory_runs, logs, args.timeout)
    groups.append(
        Group(
            "memory",
            "Peak memory: half the corpus, the same half twice, and all of it",
            f"Half = every 2nd file of the {len(corpus_files)} ({len(half_files)} files); twice = those "
            f"files copied into two folders ({'/, '.join(TWICE)}/), twice as many files with the same "
            "contents, so that only the number of files changes; one run each. The full-corpus rows "
            "are the cold runs above (medians). The bare libcst parse is shown on half and full: it "
            "keeps nothing from one file to the next, so its growth from half to full is that of "
            "the heaviest files each holds (the parse of one file takes up to 80 MB), not of their number. "
            "Twice vs once is read from the largest process: the sum over the processes of a pool "
            "depends on which files its workers parse at the same moment, and in the twice folder "
            "the two copies of the largest file are parsed together (the pool takes the largest "
            "files first), which says nothing of the number of files.",
            memory_variants
            + [v for v in corpus_variants if v.key in ("dl-cold-j1", f"dl-cold-j{procs}", "parse-j1", f"parse-j{procs}")],
        )
    )

    # ---- identical findings
    checks.append(
        compare(
            f"corpus ({len(corpus_files)} files), `--format concise` output of the measured runs",
            {
                variant.label: lines_of(variant.samples[0].stdout)
                for variant in corpus_variants
                if variant.tool == "dropout-lint" and variant.samples and "prefilter" not in variant.key
            },
        )
    )
    json_dir = sample_dir
    json_cache = json_dir / ".dropout_lint_cache-json"
    shutil.rmtree(json_cache, ignore_errors=True)
    json_variants = [
        Variant("json-cold-j1", "dropout-lint", dl.version, "cold --jobs 1",
                dl.command(list(sample_files), 1, fmt="json", quiet=False), json_dir, len(sample_files), 1,
                prepare=dl.clear_cache_of(json_dir)),
        Variant(f"json-cold-j{procs}", "dropout-lint", dl.version, f"cold --jobs {procs}",
                dl.command(list(sample_files), procs, fmt="json", quiet=False), json_dir, len(sample_files), procs,
                prepare=dl.clear_cache_of(json_dir)),
        Variant("json-fill", "dropout-lint", dl.version, f"cache filling --jobs {procs}",
                dl.command(list(sample_files), procs, cache_dir=json_cache, fmt="json", quiet=False),
                json_dir, len(sample_files), procs),
        Variant("json-warm-j1", "dropout-lint", dl.version, "warm --jobs 1",
                dl.command(list(sample_files), 1, cache_dir=json_cache, fmt="json", quiet=False),
                json_dir, len(sample_files), 1),
        Variant(f"json-warm-j{procs}", "dropout-lint", dl.version, f"warm --jobs {procs}",
                dl.command(list(sample_files), procs, cache_dir=json_cache, fmt="json", quiet=False),
                json_dir, len(sample_files), procs),
    ]
    log("checking the findings (JSON, cold vs warm, 1 vs P processes) ...")
    measure(json_variants, 1, logs, args.timeout)
    checks.append(
        compare(
            f"sample ({len(sample_files)} files), `--format json`, sorted",
            {variant.label: findings_of_json(variant.samples[0].stdout) for variant in json_variants},
        )
    )
    shutil.rmtree(json_cache, ignore_errors=True)
    shutil.rmtree(json_dir / ".dropout_lint_cache", ignore_errors=True)

    # ---- what went wrong
    for group in groups:
        for variant in group.variants:
            for index, sample in enumerate(variant.samples):
                bad = sample.rc < 0 or (variant.tool in ("dropout-lint", "libcst parse") and sample.rc != 0)
                if variant.tool not in ("dropout-lint", "libcst parse", "python -c pass") and sample.rc not in (0, 1):
                    bad = True
                if bad:
                    tail = " | ".join(Path(sample.stderr).read_text(errors="replace").strip().splitlines()[-3:])
                    messages.append(
                        f"`{variant.key}` run {index + 1} exited {sample.rc}: {tail[:300] or '(no stderr)'}"
                    )
    for variant in groups[0].variants if groups and groups[0].key == "peers" else []:
        counted = tool_file_count(variant)
        if counted is not None:
            extra.setdefault("tool_counts", {})[variant.key] = counted  # type: ignore[index]
    extra["touch_file"] = touch_rel
    if hasattr(os, "getloadavg"):
        extra["load_after"] = [round(value, 2) for value in os.getloadavg()]
    if WATCH.changes:
        changed_runs = sum(
            1 for group in groups for variant in group.variants for sample in variant.samples if sample.code_changed
        )
        messages.append(
            f"**dropout-lint's source (`{WATCH.package}`) changed {len(WATCH.changes)} time(s) during "
            f"the benchmark** ({'; '.join(WATCH.changes[:6])}{' ...' if len(WATCH.changes) > 6 else ''}): "
            f"{changed_runs} run(s) measured other code than the first ones did. Rerun on a quiet checkout."
        )
    busy = [
        (sample.other_cpu, sample.wall)
        for group in groups for variant in group.variants for sample in variant.samples if sample.wall > 0.2
    ]
    if busy:
        share = sum(other for other, _ in busy) / sum(wall for _, wall in busy)
        extra["other_cores"] = round(share, 3)
        if share > 0.1:
            messages.append(
                f"**Other processes used {share:.2f} cores on average while the commands ran** "
                "(from /proc/stat): the timings are disturbed; rerun on a quiet machine."
            )
    extra["cache_works"] = cache_works
    extra["work"] = str(work)
    results = Results(
        mode=mode,
        argv=sys.argv[1:],
        started=started.isoformat(timespec="seconds"),
        machine=machine_info(),
        corpus=corpus_desc,
        tools=tools,
        groups=groups,
        checks=checks,
        messages=messages,
        extra=extra,
    )
    if args.smoke and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return results


def warm_up(variants: Sequence[Variant], few: Sequence[str], logs: Path) -> None:
    """One unmeasured run of each distinct tool on a few files, so that the measured runs
    find their bytecode compiled (in the PYTHONPYCACHEPREFIX folder) and files cached."""
    log("warming up (unmeasured): one run of each tool on a few files ...")
    seen = set()
    for variant in variants:
        if variant.tool in seen:
            continue
        seen.add(variant.tool)
        cmd = list(variant.cmd)
        # the same command, on a few of the sample's files instead of its paths
        paths_start = len(cmd)
        while paths_start > 0 and (cmd[paths_start - 1] == "." or cmd[paths_start - 1].endswith(".py")):
            paths_start -= 1
        target_dir = variant.cwd
        files = [rel for rel in few if (target_dir / rel).is_file()] or ["."]
        run_once(cmd[:paths_start] + files, target_dir, logs / f"warmup-{variant.key}", env=variant.env)


def tool_file_count(variant: Variant) -> Optional[int]:
    """How many files the tool says it checked, where it says so."""
    if not variant.samples:
        return None
    sample = variant.samples[0]
    text = Path(sample.stdout).read_text(errors="replace") + Path(sample.stderr).read_text(errors="replace")
    patterns = {
        "peer-torchfix": r"Finished checking (\d+) files",
        "peer-fixit": r"(\d+) files? checked",
        "peer-torch-preflight": r"in (\d+) file\(s\)",
        "parse-sample": r"parsed \d+ of (\d+) files",
    }
    pattern = patterns.get(variant.key)
    if pattern is None:
        return None
    found = re.findall(pattern, text)
    return int(found[-1]) if found else None


def smoke_fixtures() -> List[Path]:
    """Three fixture files: fixtures/examples/ first, then fixtures/local/ to make three."""
    found = sorted((ROOT / "fixtures" / "examples").glob("*.py"))
    found += sorted((ROOT / "fixtures" / "local").glob("*.py"))
    if len(found) < 3:
        raise BenchError("fewer than three fixture files under fixtures/examples and fixtures/local")
    return found[:3]


# ----------------------------------------------------------------------------- the report


def every(step: object) -> str:
    """'every file', 'every 2nd file', 'every 11th file'."""
    k = int(step)  # type: ignore[call-overload]
    if k == 1:
        return "every file"
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"every {k}{suffix} file"


def _fmt(value: float, digits: int = 2) -> str:
    if value != value:  # nan
        return "–"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits}f}"


def _mb(kb: float) -> str:
    return "–" if not kb else f"{kb / 1024:.0f}"


def _ratio_text(values: Sequence[float]) -> str:
    if not values:
        return "–"
    return f"{statistics.median(values):.2f}× (runs: {', '.join(f'{v:.2f}' for v in values)})"


def table(results: Results, group: Group) -> List[str]:
    head = (
        "| tool | version | variant | files | processes | wall median (s) | CPU median (s) "
        "| files/s | wall ÷ dropout-lint cold | peak RSS, largest process (MB) "
        "| peak RSS, all processes (MB) | runs | exit codes |"
    )
    lines = [head, "|" + "---|" * 13]
    referenced = {variant.ref for variant in group.variants}
    for variant in group.variants:
        reference = results.variant(variant.ref) if variant.ref else None
        ratio = "1 (reference)" if variant.key in referenced else "–"
        if reference is not None and reference.samples and variant.samples:
            ratio = f"{variant.wall / reference.wall:.2f}"
        files_per_s = variant.files / variant.wall if variant.files and variant.samples else float("nan")
        codes = sorted({sample.rc for sample in variant.samples})
        lines.append(
            "| "
            + " | ".join(
                [
                    variant.tool,
                    variant.version,
                    variant.label,
                    str(variant.files),
                    str(variant.procs),
                    _fmt(variant.wall, 3),
                    _fmt(variant.cpu, 3),
                    _fmt(files_per_s, 1),
                    ratio,
                    _mb(variant.median("maxrss_kb")),
                    _mb(variant.median("tree_rss_kb")) if variant.wall >= 0.3 else "–",
                    str(len(variant.samples)),
                    ", ".join(str(code) for code in codes),
                ]
            )
            + " |"
        )
    return lines


@dataclasses.dataclass
class Target:
    text: str
    measured: str
    ok: Optional[bool]  # None: could not be judged


def targets(results: Results) -> List[Target]:
    out: List[Target] = []
    procs = int(results.extra["procs"])  # type: ignore[arg-type]
    get = results.variant

    def pair(a: str, b: str) -> Optional[List[float]]:
        va, vb = get(a), get(b)
        if va is None or vb is None or not va.samples or not vb.samples:
            return None
        return pair_ratios(va, vb)

    for peer in ("torchfix", "fixit"):
        ratios = pair(f"peer-{peer}", "dl-sample-cold")
        name = "TorchFix" if peer == "torchfix" else "Fixit"
        if ratios is None:
            out.append(Target(f"cold ≥ 10× faster than {name} (same files, same processes)", "not measured", None))
        else:
            value = statistics.median(ratios)
            out.append(
                Target(
                    f"cold ≥ 10× faster than {name} (same files, same processes)",
                    f"{value:.1f}× ({name} {get(f'peer-{peer}').wall:.2f} s / dropout-lint "  # type: ignore[union-attr]
                    f"{get('dl-sample-cold').wall:.2f} s, median of per-run ratios)",  # type: ignore[union-attr]
                    value >= 10,
                )
            )
    for jobs in sorted({1, procs}):
        ratios = pair(f"dl-cold-j{jobs}", f"parse-j{jobs}")
        if ratios is not None:
            value = statistics.median(ratios)
            out.append(
                Target(
                    f"cold ≤ 1.5× the bare libcst parse ({jobs} process{'es' if jobs > 1 else ''})",
                    f"{value:.2f}× ({get(f'dl-cold-j{jobs}').wall:.2f} s vs {get(f'parse-j{jobs}').wall:.2f} s)",  # type: ignore[union-attr]
                    value <= 1.5,
                )
            )
    if procs > 1:
        ratios = pair("dl-cold-j1", f"dl-cold-j{procs}")
        if ratios is not None:
            value = statistics.median(ratios)
            out.append(
                Target(
                    f"--jobs {procs} ≥ 1.7× faster than --jobs 1",
                    f"{value:.2f}× ({get('dl-cold-j1').wall:.2f} s vs {get(f'dl-cold-j{procs}').wall:.2f} s)",  # type: ignore[union-attr]
                    value >= 1.7,
                )
            )
    cold_key = f"dl-cold-j{procs}"
    for key, limit, text in (
        ("dl-warm", 0.05, "warm, nothing changed ≤ 5 % of cold"),
        ("dl-warm-touched", 0.10, "warm, one file changed ≤ 10 % of cold"),
    ):
        ratios = pair(key, cold_key)
        if ratios is None or not results.extra.get("cache_works"):
            out.append(Target(text, "n/a: no working cache in this dropout-lint", None))
            continue
        value = statistics.median(ratios)
        out.append(
            Target(
                text,
                f"{value * 100:.1f} % ({get(key).wall:.3f} s vs {get(cold_key).wall:.2f} s, same processes)",  # type: ignore[union-attr]
                value <= limit,
            )
        )
    small = get("dl-small")
    if small is not None and small.samples:
        floor = get("libcst-import")
        shown = f"{small.wall:.3f} s"
        if floor is not None and floor.samples:
            shown += f" (`import libcst` alone: {floor.wall:.3f} s)"
        out.append(Target("one small file < 0.3 s (start-up included)", shown, small.wall < 0.3))
    small_warm = get("dl-small-warm")
    if small_warm is not None and small_warm.samples:
        out.append(
            Target(
                "one small file, cache warm (the pre-commit hook) < 0.1 s",
                f"{small_warm.wall:.3f} s (CPU {small_warm.cpu:.3f} s)",
                small_warm.wall < 0.1,
            )
        )

    def peaks(key: str, attribute: str) -> Optional[float]:
        """The median peak of a row in MB, where it was measured."""
        variant = get(key)
        if variant is None or not variant.samples or not variant.median(attribute):
            return None
        return variant.median(attribute) / 1024

    jobs_counts = sorted({1, procs})
    full_peaks = []
    for jobs in jobs_counts:
        for attribute, label in (("tree_rss_kb", "all processes"), ("maxrss_kb", "largest process")):
            full = peaks(f"dl-cold-j{jobs}", attribute)
            if full is not None:
                full_peaks.append((jobs, full, label))
                break
    if full_peaks:
        out.append(
            Target(
                "peak memory < 600 MB on the full corpus",
                "; ".join(f"--jobs {jobs}: {mb:.0f} MB ({label})" for jobs, mb, label in full_peaks),
                max(mb for _, mb, _ in full_peaks) < 600,
            )
        )
    twice_rows = []
    for jobs in jobs_counts:
        half, twice = peaks(f"dl-half-j{jobs}", "maxrss_kb"), peaks(f"dl-twice-j{jobs}", "maxrss_kb")
        if half is not None and twice is not None:
            twice_rows.append((jobs, half, twice))
    if twice_rows:
        out.append(
            Target(
                "peak memory not growing with the number of files: the same files twice vs once, "
                f"largest process (≤ ×{1 + MEMORY_GROWTH_LIMIT:.2f})",
                "; ".join(f"--jobs {jobs}: {half:.0f} → {twice:.0f} MB (×{twice / half:.2f})" for jobs, half, twice in twice_rows),
                all(twice <= half * (1 + MEMORY_GROWTH_LIMIT) for _, half, twice in twice_rows),
            )
        )
    full_rows = []
    for jobs in jobs_counts:
        values = [peaks(key.format(jobs), "tree_rss_kb") for key in ("dl-half-j{}", "dl-cold-j{}", "parse-half-j{}", "parse-j{}")]
        if all(value is not None for value in values):
            full_rows.append((jobs, *values))
    if full_rows:
        out.append(
            Target(
                "peak memory from half to full corpus, all processes: grows by at most "
                f"{MEMORY_GROWTH_LIMIT * 100:.0f} % of the half corpus's peak more than the bare libcst parse's",
                "; ".join(
                    f"--jobs {jobs}: {half:.0f} → {full:.0f} MB (+{full - half:.0f}), the parse {parse_half:.0f} → "
                    f"{parse_full:.0f} MB (+{parse_full - parse_half:.0f}): "
                    f"{(full - half) - (parse_full - parse_half):+.0f} MB, {((full - half) - (parse_full - parse_half)) / half * 100:+.0f} %"
                    for jobs, half, full, parse_half, parse_full in full_rows
                ),
                all(
                    (full - half) - (parse_full - parse_half) <= MEMORY_GROWTH_LIMIT * half
                    for _, half, full, parse_half, parse_full in full_rows
                ),
            )
        )
    if results.checks:
        same = all(check.identical for check in results.checks)
        out.append(
            Target(
                "identical findings: cold vs warm, --jobs 1 vs --jobs P",
                "; ".join(
                    f"{check.name}: {'identical' if check.identical else 'DIFFERENT'}" for check in results.checks
                ),
                same,
            )
        )
    return out


def render(results: Results) -> str:
    out: List[str] = []
    mode_note = {
        "full": "",
        "quick": " (**--quick: a small stand-in corpus and sample, for development; the numbers are indicative only**)",
        "smoke": " (**--smoke: CI smoke run on fixture files; the numbers mean nothing**)",
    }[results.mode]
    out.append("# dropout-lint benchmark results")
    out.append("")
    out.append(
        f"Mode: **{results.mode}**{mode_note}. Written by `python benchmarks/run.py "
        f"{' '.join(results.argv)}`, started {results.started}."
    )
    out.append("")
    out.append("## Machine")
    out.append("")
    for key in ("cpu", "cores", "memory", "os", "python"):
        out.append(f"- {key}: {results.machine[key]}")
    out.append(f"- date: {results.started}")
    if "load_before" in results.extra:
        out.append(
            f"- load average (1, 5, 15 min) before: {results.extra['load_before']}, after: "
            f"{results.extra.get('load_after', '?')}"
        )
    if "other_cores" in results.extra:
        out.append(
            f"- other processes used {results.extra['other_cores']} cores on average while the "
            "commands ran (from /proc/stat)"
        )
    if "bytecode" in results.extra:
        out.append(f"- bytecode: {results.extra['bytecode']}")
    out.append("")
    out.append("## Corpus")
    out.append("")
    corpus = results.corpus
    out.append(f"- source: {corpus['what']}")
    out.append(f"- all of it: {corpus['all_files']} files, {corpus['all_mb']} MB")
    out.append(
        f"- linted as \"the corpus\" in this run: {corpus['corpus_files']} files, {corpus['corpus_mb']} MB"
        + ("" if corpus["corpus_step"] == 1 else f" ({every(corpus['corpus_step'])} of the sorted list)")
    )
    out.append(
        f"- half corpus (memory): every 2nd of those, {corpus['half_files']} files; "
        f"the same files twice (in {'/ and '.join(TWICE)}/), {corpus['twice_files']} files"
    )
    out.append(
        f"- peers' sample: {every(corpus['sample_step'])} of the sorted list, "
        f"{corpus['sample_files']} files, {corpus['sample_mb']} MB"
    )
    if "files_dropout_lint_checked" in results.extra:
        out.append(
            f"- files dropout-lint reported checking in the corpus folder: {results.extra['files_dropout_lint_checked']}"
        )
    out.append(f"- runs per command: {results.extra['runs']} (interleaved; medians); processes P = {results.extra['procs']}")
    out.append("")
    out.append("## Tools and command lines")
    out.append("")
    out.append("| tool | version | command line | processes | dependencies (no torch) |")
    out.append("|---|---|---|---|---|")
    for tool in results.tools:
        out.append(
            f"| {tool['tool']} | {tool['version']} | `{tool['command']}` | {tool['processes']} | {tool['deps']} |"
        )
    out.append("")
    out.append(
        "Wall: from fork to reaping, whole process, interpreter start-up included. CPU: user + "
        "system of the process and of the children it waited for (`os.wait4`). Peak RSS, "
        "largest process: `ru_maxrss` from `os.wait4`, i.e. the largest single process of the "
        "tree. Peak RSS, all processes: the summed RSS of the process and its descendants, "
        "sampled every 0.1 s from /proc (a shorter peak can be missed; not shown for runs under 0.3 s). Output went to files; "
        "linters exit 1 when they find something."
    )
    out.append("")
    for number, group in enumerate(results.groups, 1):
        out.append(f"## {number}. {group.title}")
        out.append("")
        out.append(group.intro)
        out.append("")
        out.extend(table(results, group))
        out.append("")
        pairs = [
            (variant, results.variant(variant.ref))
            for variant in group.variants
            if variant.ref and results.variant(variant.ref) is not None and len(variant.samples) > 1
            and group.key != "memory"
        ]
        if pairs:
            out.append("Per-run ratios of interleaved runs (wall of the row ÷ wall of its dropout-lint reference):")
            out.append("")
            for variant, reference in pairs:
                assert reference is not None
                out.append(
                    f"- {variant.tool} {variant.label} ÷ {reference.tool} {reference.label}: "
                    f"{_ratio_text(pair_ratios(variant, reference))}"
                )
            out.append("")
        notes = [f"- {variant.tool}: {variant.note}" for variant in group.variants if variant.note]
        timed = [sample for variant in group.variants for sample in variant.samples if sample.wall > 0.2]
        if timed:
            share = sum(sample.other_cpu for sample in timed) / sum(sample.wall for sample in timed)
            notes.append(
                f"- other processes of the machine used {share:.2f} cores on average while these "
                "commands ran (from /proc/stat; runs over 0.2 s)"
                + (": **disturbed**" if share > 0.1 else "")
            )
        changed = [
            f"{variant.key} run {index + 1}"
            for variant in group.variants
            for index, sample in enumerate(variant.samples)
            if sample.code_changed
        ]
        if changed:
            notes.append(
                f"- measured after dropout-lint's source had changed: {', '.join(changed[:10])}"
                + (" ..." if len(changed) > 10 else "")
            )
        if group.key == "peers":
            counts = results.extra.get("tool_counts") or {}
            for key, counted in counts.items():  # type: ignore[union-attr]
                variant = results.variant(key)
                if variant is not None:
                    notes.append(f"- {variant.tool} says it checked {counted} of the {variant.files} files")
            if any(key == "peer-torchfix" for key in counts):  # type: ignore[operator]
                notes.append(
                    "- TorchFix parses only the files that contain the string `torch` "
                    "(it filters by a text search first); the others are read, not parsed"
                )
            all_files = int(results.corpus["all_files"])  # type: ignore[arg-type]
            for variant in group.variants:
                if variant.key.startswith("peer-") and variant.samples and variant.files:
                    projected = variant.wall * all_files / variant.files
                    shown = f"{projected / 60:.0f} min" if projected >= 120 else f"{projected:.0f} s"
                    notes.append(
                        f"- {variant.tool} over all {all_files} files would take about "
                        f"{shown} per run (this run's wall time per file × {all_files})"
                    )
        if notes:
            out.append("Notes:")
            out.append("")
            out.extend(notes)
            out.append("")
    out.append("## Findings identical?")
    out.append("")
    for check in results.checks:
        counts = ", ".join(f"{label}: {count}" for label, count in check.runs.items())
        verdict = "identical" if check.identical else "**DIFFERENT**"
        out.append(f"- {check.name}: {verdict} ({counts})" + (f". {check.detail}" if check.detail else ""))
    out.append("")
    out.append("## Targets")
    out.append("")
    out.append("| target | measured | result |")
    out.append("|---|---|---|")
    for target in targets(results):
        verdict = "n/a" if target.ok is None else "pass" if target.ok else "**fail**"
        out.append(f"| {target.text} | {target.measured} | {verdict} |")
    out.append("")
    if results.mode != "full":
        out.append("The targets are judged on this run's numbers, which are not the full benchmark's.")
        out.append("")
    if results.messages:
        out.append("## Messages")
        out.append("")
        for message in results.messages:
            out.append(f"- {message}")
        out.append("")
    if results.mode != "smoke":
        out.append(f"Logs of every run (stdout, stderr): `{results.extra['work']}/logs/` (overwritten by the next run).")
        out.append("")
    return "\n".join(out)


def results_json(results: Results) -> dict:
    return {
        "mode": results.mode,
        "argv": results.argv,
        "started": results.started,
        "machine": results.machine,
        "corpus": results.corpus,
        "tools": results.tools,
        "groups": [
            {"key": group.key, "title": group.title, "variants": [v.to_json() for v in group.variants]}
            for group in results.groups
        ],
        "checks": [dataclasses.asdict(check) for check in results.checks],
        "targets": [dataclasses.asdict(target) for target in targets(results)],
        "messages": results.messages,
        "extra": results.extra,
    }


# ----------------------------------------------------------------------------- main


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small corpus and sample, 2 runs (development)")
    mode.add_argument("--smoke", action="store_true", help="dropout-lint alone on 3 fixture files, 1 run, no downloads (CI)")
    parser.add_argument("--runs", type=int, help=f"runs per command (default {DEFAULT_RUNS}; --quick {QUICK_RUNS}; --smoke 1)")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"), help="the Markdown report (default benchmarks/RESULTS.md)")
    parser.add_argument("--json", help="also write the raw numbers as JSON here")
    parser.add_argument("--cache", help="cache folder (default $DROPOUT_LINT_BENCH_CACHE or ~/.cache/dropout-lint/bench)")
    parser.add_argument("--procs", type=int, help="processes for the parallel variants (default: os.cpu_count())")
    parser.add_argument("--sample", type=int, help=f"about how many files the peers lint (default {SAMPLE_TARGET}; --quick {QUICK_SAMPLE_TARGET})")
    parser.add_argument("--peers", nargs="*", choices=[peer.key for peer in PEERS], help="only these peers")
    parser.add_argument("--no-peers", action="store_true", help="leave the peers out")
    parser.add_argument("--dropout-lint", help="the dropout-lint command (default: the one beside this python)")
    parser.add_argument("--files", nargs="+", help="--smoke: these files instead of the fixtures")
    parser.add_argument("--timeout", type=float, default=7200.0, help="seconds one run may take before it is killed")
    parser.add_argument("--keep", action="store_true", help="--smoke: keep the temporary folder")
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.procs is not None and args.procs < 1:
        parser.error("--procs must be at least 1")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        results = benchmark(args)
    except BenchError as exc:
        print(f"benchmarks/run.py: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("benchmarks/run.py: interrupted", file=sys.stderr)
        return 130
    text = render(results)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(results_json(results), indent=2), encoding="utf-8")
    log(f"wrote {out}")
    for target in targets(results):
        verdict = "n/a" if target.ok is None else "pass" if target.ok else "FAIL"
        log(f"  {verdict:>4}  {target.text}: {target.measured}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
