"""The runtime tracer: the reference dropout, the trace of models with known bugs,
the safety of the trace, and joining it with the static pass."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from dropout_lint.tracer.reference import check_dropout
from dropout_lint.tracer.trace import Inputs, trace_model

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "tracer"
sys.path.insert(0, str(FIXTURES))

import dropouts  # noqa: E402
import models  # noqa: E402

GPU = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


# The reference check.


@pytest.mark.parametrize("p", [0.1, 0.3, 0.7, 0.9])
def test_torch_dropouts_pass_the_reference_check_across_seeds(p: float) -> None:
    import torch.nn.functional as F

    implementations = [
        (nn.Dropout(p), "element"),
        (lambda x, training: F.dropout(x, p, training), "element"),
        (nn.Dropout1d(p), "channel"),
        (nn.Dropout2d(p), "channel"),
        (nn.Dropout3d(p), "channel"),
        (nn.AlphaDropout(p), "alpha"),
        (nn.FeatureAlphaDropout(p), "feature-alpha"),
    ]
    for seed in range(12):
        for implementation, kind in implementations:
            report = check_dropout(implementation, p, kind=kind, seed=seed)
            assert report.passed, report.describe()


@pytest.mark.parametrize(
    ("implementation", "fault"),
    [
        (dropouts.NoRescaleDropout, "scale"),
        (dropouts.TF1StyleDropout, "eval-identity"),
        (dropouts.KeepProbDropout, "rate"),
        (dropouts.AlwaysOnDropout, "eval-identity"),
        (dropouts.FixedMaskDropout, "fresh-mask"),
        (dropouts.WrongBackwardDropout, "gradient"),
    ],
)
@pytest.mark.parametrize("p", [0.2, 0.7])
def test_wrong_dropouts_fail_on_the_sub_test_that_names_their_fault(implementation: type, fault: str, p: float) -> None:
    report = check_dropout(implementation(p), p)
    assert not report.passed
    assert fault in [r.name for r in report.failed], report.describe()


def test_a_correct_hand_written_dropout_passes() -> None:
    for seed in range(5):
        assert check_dropout(dropouts.GoodDropout(0.3), 0.3, seed=seed).passed


def test_drop_path_granularity() -> None:
    def drop_path(x: torch.Tensor, training: bool) -> torch.Tensor:
        if not training:
            return x
        keep = (torch.rand(x.shape[0], 1, dtype=x.dtype) >= 0.2).to(x.dtype)
        return x * keep / 0.8

    assert check_dropout(drop_path, 0.2, kind="sample").passed
    report = check_dropout(drop_path, 0.2, kind="element")
    assert "granularity" in [r.name for r in report.failed]


# Tracing models with known bugs.


def _trace(model: nn.Module, *shape: int, conformance: bool = False) -> list[tuple[str, int]]:
    torch.manual_seed(0)
    result = trace_model(model, Inputs((torch.randn(*shape),), {}), conformance=conformance)
    return sorted((f.code, f.line or 0) for f in result.findings)


def _line(text: str) -> int:
    for number, line in enumerate((FIXTURES / "models.py").read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(text)


@pytest.mark.parametrize(
    ("cls", "shape", "expected"),
    [
        ("FunctionalAlwaysOn", (64, 16), [("DL401", "x = F.dropout(F.relu"), ("DL502", "x = F.dropout(F.relu")]),
        ("UngatedAttention", (8, 10, 16), [("DL406", "y = F.scaled_dot"), ("DL502", "y = F.scaled_dot")]),
        ("ListedDropouts", (64, 16), [("DL501", "return self.fc2(self.drops[0]"), ("DL502", "return self.fc2(self.drops[0]")]),
        ("StochasticDepth", (64, 16), [("DL502", "keep = (torch.rand")]),
        ("InputDropoutNet", (64, 16), [("DL101", "x = self.drop(x)"), ("DL104", "self.unused = nn.Dropout")]),
        ("OutputDropoutNet", (64, 16), [("DL102", "return self.drop(self.fc2")]),
    ],
)
def test_models_with_bugs(cls: str, shape: tuple[int, ...], expected: list[tuple[str, str]]) -> None:
    found = _trace(getattr(models, cls)(), *shape)
    assert found == sorted((code, _line(text)) for code, text in expected)


def test_a_dropout_that_forgets_to_rescale_fails_conformance() -> None:
    found = _trace(models.NoRescaleNet(), 64, 16, conformance=True)
    assert [code for code, _ in found] == ["DL503"]
    result = trace_model(models.NoRescaleNet(), Inputs((torch.randn(64, 16),), {}), conformance=True)
    assert "scale" in result.findings[0].message


@pytest.mark.parametrize(("cls", "shape"), [("MLP", (64, 16)), ("AlexNetLike", (8, 3, 32, 32))])
def test_correct_models_give_nothing(cls: str, shape: tuple[int, ...]) -> None:
    assert _trace(getattr(models, cls)(), *shape, conformance=True) == []


def test_a_vision_transformer_gives_nothing() -> None:
    layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.1, batch_first=True)
    model = nn.Sequential(nn.Linear(16, 32), nn.TransformerEncoder(layer, num_layers=2), nn.Linear(32, 4))
    assert _trace(model, 4, 10, 16, conformance=True) == []


def test_rate_mismatch() -> None:
    class Lying(nn.Dropout):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return nn.functional.dropout(x, 0.6, self.training)

    model = nn.Sequential(nn.Linear(16, 256), nn.ReLU(), Lying(0.1), nn.Linear(256, 4))
    assert [code for code, _ in _trace(model, 256, 16)] == ["DL504"]


class GPT2Dropout(nn.Module):
    """A correct element-wise dropout whose name holds a digit before "Dropout"."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.dropout(x, self.p, self.training)


def test_a_digit_in_a_dropout_class_name_is_not_channel_dropout() -> None:
    model = nn.Sequential(nn.Linear(16, 64), GPT2Dropout(0.2), nn.Linear(64, 4))
    assert _trace(model, 64, 16, conformance=True) == []


@pytest.mark.parametrize("seed", range(20))
def test_channel_dropout_rates_are_judged_by_channels(seed: int) -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Dropout2d(0.2), nn.Conv2d(4, 2, 1))
    torch.manual_seed(seed)
    result = trace_model(model, Inputs((torch.randn(8, 3, 16, 16),), {}), seed=seed)
    assert result.findings == []


def test_meta_tensors_give_no_placement_alarms() -> None:
    model = models.MLP().to("meta")
    result = trace_model(model, Inputs((torch.randn(8, 16, device="meta"),), {}))
    assert result.findings == []
    assert [row["name"] for row in result.modules] == [name for name, m in model.named_modules() if isinstance(m, nn.Dropout)]


class _Noisy(nn.Module):
    """Randomness in the model's own forward, with no torch random op to point at."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        import numpy

        return self.fc(x) + torch.from_numpy(numpy.random.rand(4)).float()


def test_randomness_in_the_models_own_forward_is_shown_at_forward() -> None:
    result = trace_model(_Noisy(), Inputs((torch.randn(8, 16),), {}))
    assert [(f.code, f.file, f.line) for f in result.findings] == [
        ("DL502", __file__, _Noisy.forward.__code__.co_firstlineno)
    ]


# The model is left as it was found.


class _Frozen(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.bn = nn.BatchNorm1d(16)
        self.head = nn.Sequential(nn.Dropout(0.5), nn.Linear(16, 4))
        self.hidden_flag = "kept"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.last_batch = x.shape[0]  # a plain attribute set by the forward pass
        return self.head(self.bn(self.fc(x)))


def test_the_model_is_left_exactly_as_found() -> None:
    model = _Frozen()
    model.eval()
    model.head.train()  # deliberately in training mode
    before_state = copy.deepcopy(model.state_dict())
    before_flags = [(name, m.training) for name, m in model.named_modules()]
    inputs = Inputs((torch.randn(32, 16),), {})
    before_rng = torch.get_rng_state()
    trace_model(model, inputs, conformance=True)
    assert [(name, m.training) for name, m in model.named_modules()] == before_flags
    after_state = model.state_dict()
    assert all(torch.equal(before_state[k], after_state[k]) for k in before_state)
    assert torch.equal(torch.get_rng_state(), before_rng)
    assert model.hidden_flag == "kept"
    assert not hasattr(model, "last_batch")


# The command line: a child process, clear failures.


def _cli(*args: str, cwd: Path = FIXTURES) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dropout_lint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
    )


def test_trace_command_reports_with_lines_and_exit_1() -> None:
    done = _cli("trace", "models.py:InputDropoutNet", "--input-shape", "64,16")
    assert done.returncode == 1, done.stderr
    assert f"models.py:{_line('x = self.drop(x)')}:9: DL101" in done.stdout
    assert "unused  Dropout  0.1" in done.stdout  # the table of dropout modules
    clean = _cli("trace", "models.py:MLP", "--format", "json")
    assert clean.returncode == 0 and json.loads(clean.stdout) == []


@pytest.mark.parametrize(
    ("target", "args", "stage", "text"),
    [
        ("nowhere.py:Model", (), "import", "no such file"),
        ("models.py:Missing", (), "target", "has no 'Missing'"),
        ("broken.py:RaisesInInit", (), "build", "ValueError: config file not found"),
        ("broken.py:not_a_module", (), "build", "not a torch.nn.Module"),
        ("broken.py:RaisesInForward", (), "forward", "KeyError"),
        ("models.py:MLP", ("--input-shape", "8,15"), "forward", "shapes cannot be multiplied"),
        ("broken.py:TooLarge", (), "memory", "out of memory"),
        ("broken.py:Hangs", ("--timeout", "3"), "timeout", "did not finish within 3 s"),
        ("models.py:MLP", ("--input", "float99[2]"), "input", "unknown dtype"),
    ],
)
def test_trace_failures_are_clear_and_exit_2(target: str, args: tuple[str, ...], stage: str, text: str) -> None:
    done = _cli("trace", target, *args)
    assert done.returncode == 2
    assert f"({stage})" in done.stderr and text in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_trace_command_does_not_import_torch_in_the_linter_process() -> None:
    code = (
        "import sys\n"
        "from dropout_lint.tracer import process\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_check_with_trace_marks_static_findings() -> None:
    done = _cli(
        "check",
        "models.py",
        "--trace",
        "models.py:FunctionalAlwaysOn",
        "--format",
        "json",
        "--select",
        "DL401,DL406,DL202,DL502",
    )
    found = {(f["code"], f["line"]): f["runtime"] for f in json.loads(done.stdout)}
    assert found[("DL401", _line("x = F.dropout(F.relu"))] == "confirmed"
    assert found[("DL406", _line("y = F.scaled_dot"))].startswith("not reproduced: the traced forward pass did not run")
    assert found[("DL502", _line("x = F.dropout(F.relu"))] is None  # found by the trace alone


def test_check_with_a_failing_trace_keeps_the_static_findings() -> None:
    done = _cli("check", "models.py", "--trace", "models.py:Missing", "--format", "json", "--select", "DL401")
    assert done.returncode == 2
    assert "(target)" in done.stderr and "has no 'Missing'" in done.stderr
    found = json.loads(done.stdout)
    assert [f["code"] for f in found] and {f["code"] for f in found} == {"DL401"}
    assert all(f["runtime"] is None for f in found)  # nothing was traced


# On a GPU (skipped where there is none).


@GPU
def test_trace_on_cuda_finds_what_cpu_finds() -> None:
    for cls, shape in [("FunctionalAlwaysOn", (64, 16)), ("ListedDropouts", (64, 16)), ("MLP", (64, 16))]:
        model = getattr(models, cls)()
        cpu = trace_model(copy.deepcopy(model), Inputs((torch.randn(*shape),), {}))
        gpu = trace_model(model.cuda(), Inputs((torch.randn(*shape, device="cuda"),), {}))
        assert sorted(f.code for f in gpu.findings) == sorted(f.code for f in cpu.findings)
        assert gpu.device.startswith("cuda")


@GPU
def test_trace_command_on_cuda() -> None:
    done = _cli("trace", "models.py:InputDropoutNet", "--device", "cuda", "--input-shape", "64,16")
    assert done.returncode == 1 and "on cuda" in done.stdout


class _FailsInEval(nn.Module):
    """Updates batch norm statistics in the training pass, then fails in eval mode."""

    def __init__(self) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(16)
        self.drop = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            raise RuntimeError("eval is broken")
        return self.drop(self.bn(x))


def test_a_model_that_fails_mid_trace_is_left_as_found() -> None:
    model = _FailsInEval()
    model.eval()
    before = copy.deepcopy(model.state_dict())
    inputs = Inputs((torch.randn(32, 16) * 5 + 3,), {})
    rng = torch.get_rng_state()
    with pytest.raises(RuntimeError, match="eval is broken"):
        trace_model(model, inputs)
    assert not model.training and not model.bn.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(torch.get_rng_state(), rng)
