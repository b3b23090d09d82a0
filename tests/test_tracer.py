"""The runtime tracer: the reference dropout, the trace of models with known bugs,
the safety of the trace, and joining it with the static pass."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from dropout_lint.tracer.reference import check_dropout
from dropout_lint.tracer.trace import Inputs, trace_model
from tests.helpers import run_dropout_lint

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "tracer"
sys.path.insert(0, str(FIXTURES))

import dropouts  # noqa: E402
import models  # noqa: E402
import real  # noqa: E402

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


def test_a_numpy_draw_in_the_models_own_forward_is_shown_where_it_is_made() -> None:
    result = trace_model(_Noisy(), Inputs((torch.randn(8, 16),), {}))
    assert [(f.code, f.file, f.line) for f in result.findings] == [
        ("DL502", __file__, _Noisy.forward.__code__.co_firstlineno + 3)
    ]
    assert "numpy.random.rand" in result.findings[0].message


class _NoisyWithoutDraws(nn.Module):
    """Eval outputs that differ with no draw to watch: a counter kept between calls."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 4)
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.fc(x) * self.calls


def test_eval_outputs_that_differ_without_a_draw_are_still_found() -> None:
    result = trace_model(_NoisyWithoutDraws(), Inputs((torch.randn(8, 16),), {}))
    assert [(f.code, f.line) for f in result.findings] == [("DL502", _NoisyWithoutDraws.forward.__code__.co_firstlineno)]


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
    return run_dropout_lint(args, cwd, timeout=120)


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
    assert ("DL502", _line("x = F.dropout(F.relu")) not in found  # that dropout's draw: the DL401 it confirms


@pytest.mark.slow  # starts PyTorch in a child process
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


@GPU
def test_trace_on_cuda_stays_within_one_and_a_half_plain_forward_passes() -> None:
    model = real.LargeTransformer().cuda()
    tokens = real.large_inputs().cuda()
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    model.train()
    output = model(tokens)
    del output
    model.eval()
    with torch.no_grad():
        model(tokens)
    plain = torch.cuda.max_memory_allocated() - base
    torch.cuda.reset_peak_memory_stats()
    result = trace_model(model, Inputs((tokens,), {}))
    traced = torch.cuda.max_memory_allocated() - base
    assert result.device.startswith("cuda") and result.findings == []
    assert traced <= 1.5 * plain, (traced, plain)


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


# Real forms: timm, Hugging Face, torchvision, LayerDrop (fixtures/tracer/real.py).


def _real_line(text: str) -> int:
    for number, line in enumerate((FIXTURES / "real.py").read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(text)


def _trace_real(build: str, inputs: str, seed: int = 0, conformance: bool = True) -> list[tuple[str, int]]:
    torch.manual_seed(seed)
    model = getattr(real, build)()
    result = trace_model(model, Inputs((getattr(real, inputs)(),), {}), seed=seed, conformance=conformance)
    assert all(f.file == str(FIXTURES / "real.py") for f in result.findings), result.findings
    return sorted((f.code, f.line or 0) for f in result.findings)


@pytest.mark.parametrize(
    ("build", "inputs"),
    [
        ("VisionTransformer", "vit_inputs"),  # timm: the attention dropout's rate goes to the fused kernel
        ("BertModel", "bert_inputs"),  # Hugging Face: self.dropout.p handed to the attention function
        ("bert_eager_without_attention_dropout", "bert_inputs"),  # F.dropout(p=0.0, training=True): a placeholder
        ("bert_hidden_states", "bert_inputs"),  # the embeddings' dropout makes one output of many
        ("EfficientNetLike", "image_inputs"),  # nn.Dropout(inplace=True) is torch's own
        ("ResNetWithStochasticDepth", "image_inputs"),  # torchvision's stochastic depth, gated on training
        ("resnet_batch_mode", "image_inputs"),  # mode="batch": one draw for the whole batch
        ("vit_with_gated_layer_drop", "vit_inputs"),  # LayerDrop tested against self.training
    ],
)
def test_correct_real_forms_give_nothing(build: str, inputs: str) -> None:
    assert _trace_real(build, inputs) == []


def test_a_registered_attention_dropout_that_nothing_applies_is_found_once() -> None:
    line = _real_line("self.attn_drop = nn.Dropout(attn_drop)")
    assert _trace_real("vit_with_unused_attention_dropout", "vit_inputs") == [("DL104", line)]


def test_a_dropout_whose_rate_is_read_but_never_used_in_training_is_still_applied() -> None:
    """The rate is read in training and handed to the kernel: that is applying it; the
    module's own call never happens."""
    model = real.VisionTransformer()
    result = trace_model(model, Inputs((real.vit_inputs(),), {}))
    attention = [c for c in result.calls if c.kind == "attention" and c.phase == "train"]
    assert attention and all(c.p == pytest.approx(0.1) and c.active for c in attention)
    assert not any(c.name.endswith("attn_drop") for c in result.calls)


@pytest.mark.parametrize("seed", range(20))
def test_ungated_layer_drop_is_found_on_every_seed(seed: int) -> None:
    line = _real_line("elif random.random() < self.layer_dropout:")
    assert _trace_real("ViTWithLayerDrop", "vit_inputs", seed, conformance=False) == [("DL502", line)]
    numpy_line = _real_line("if np.random.rand() < self.p:")
    torch.manual_seed(seed)
    result = trace_model(real.NumpyLayerDrop(), Inputs((torch.randn(8, 16),), {}), seed=seed)
    assert [(f.code, f.line) for f in result.findings] == [("DL502", numpy_line)]


@pytest.mark.parametrize("seed", range(20))
def test_a_gated_layer_drop_is_silent_on_every_seed(seed: int) -> None:
    assert _trace_real("vit_with_gated_layer_drop", "vit_inputs", seed, conformance=False) == []


def test_a_draw_from_a_generator_reseeded_on_each_call_is_not_random() -> None:
    result = trace_model(real.SeededNoise(), Inputs((torch.randn(8, 16),), {}))
    assert result.findings == []


def test_a_draw_from_pythons_random_imported_by_name_is_seen() -> None:
    from random import random

    class Skips(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(16, 16)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x if random() < 0.5 else self.fc(x)

    result = trace_model(Skips(), Inputs((torch.randn(8, 16),), {}))
    assert [(f.code, f.line) for f in result.findings] == [("DL502", Skips.forward.__code__.co_firstlineno + 1)]


def test_conformance_finds_dropouts_by_behaviour_not_by_name() -> None:
    regulariser = _real_line("class Regulariser(nn.Module):")
    torch.manual_seed(0)
    result = trace_model(real.RenamedDropoutNet(), Inputs((torch.randn(64, 16),), {}), conformance=True)
    assert [(f.code, f.line) for f in result.findings] == [("DL503", regulariser)]
    assert "`reg` (Regulariser, p=0.3)" in result.findings[0].message and "scale" in result.findings[0].message
    fixed = real.RenamedDropoutNet(regulariser=dropouts.GoodDropout)
    assert trace_model(fixed, Inputs((torch.randn(64, 16),), {}), conformance=True).findings == []


def test_stochastic_depth_that_drops_single_values_fails_conformance() -> None:
    line = _real_line("class PerUnitStochasticDepth(StochasticDepth):")
    found = _trace_real("ConvWithPerUnitDepth", "image_inputs")
    assert found == [("DL503", line)]


def test_noise_injection_is_not_a_dropout() -> None:
    from dropout_lint.tracer.behaviour import dropout_kind

    assert dropout_kind(real.GaussianNoise(0.1), 2) is None
    assert dropout_kind(real.StochasticDepth(0.2, "row"), 4) == "sample"
    assert dropout_kind(real.StochasticDepth(0.2, "batch"), 4) is None
    assert dropout_kind(nn.Dropout2d(0.2), 4) == "channel"
    assert dropout_kind(dropouts.GoodDropout(0.2), 3) == "element"


def test_dl405_only_for_a_flag_that_is_off_in_training() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(16, 16)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = nn.functional.alpha_dropout(torch.selu(self.fc(x)), 0.1)
            x = nn.functional.dropout(x, 0.0, training=self.training)
            return self.fc(nn.functional.dropout(x, 0.2, training=self.training))

    result = trace_model(Net(), Inputs((torch.randn(8, 16),), {}))
    assert [(f.code, f.line) for f in result.findings] == [("DL405", Net.forward.__code__.co_firstlineno + 1)]


def test_dl102_only_when_dropout_makes_every_output() -> None:
    output_line = _line("return self.drop(self.fc2")
    assert _trace(models.OutputDropoutNet(), 64, 16) == [("DL102", output_line)]

    class Both(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(16, 16)
            self.drop = nn.Dropout(0.2)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            h = self.drop(torch.relu(self.fc(x)))
            return self.fc(h), h

    assert _trace(Both(), 8, 16) == []


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_in_place_torch_dropout_passes_the_reference_check(p: float) -> None:
    for seed in range(5):
        report = check_dropout(nn.Dropout(p, inplace=True), p, seed=seed)
        assert report.passed, report.describe()
        assert check_dropout(nn.Dropout2d(p, inplace=True), p, kind="channel", seed=seed).passed


def test_torch_own_dropouts_are_never_checked_for_conformance() -> None:
    class Counting(nn.Dropout):
        pass  # torch's forward: its own

    model = nn.Sequential(nn.Linear(16, 64), Counting(0.2, inplace=True), nn.Dropout(0.3, inplace=True), nn.Linear(64, 4))
    assert _trace(model, 64, 16, conformance=True) == []


# Left as found: the Python API too.


class _Stateful(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.bn = nn.BatchNorm1d(16)
        self.register_buffer("steps", torch.zeros(()), persistent=False)
        self.register_buffer("ema", torch.zeros(16))
        self.drop = nn.Dropout(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        import random

        import numpy

        self.steps += 1  # a non-persistent buffer
        self.ema.mul_(0.9).add_(x.mean(0))
        with torch.no_grad():
            self.fc.bias.add_(1.0)  # a parameter changed in place
        noise = random.random() + float(numpy.random.rand())
        return self.drop(self.bn(self.fc(x))) + noise * 0


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    found = {f"param:{k}": v.detach().clone() for k, v in model.named_parameters()}
    found.update({f"buffer:{k}": v.clone() for k, v in model.named_buffers()})
    return found


def test_parameters_buffers_flags_and_every_generator_are_left_as_found() -> None:
    import random

    import numpy

    model = _Stateful()
    model.eval()
    model.drop.train()
    model.fc.weight.grad = torch.ones_like(model.fc.weight)
    before = _state(model)
    flags = [(name, m.training) for name, m in model.named_modules()]
    classes = [type(m) for m in model.modules()]
    inputs = Inputs((torch.randn(32, 16),), {})
    rng = (torch.get_rng_state(), random.getstate(), numpy.random.get_state())
    profile = sys.getprofile()
    numpy_rand = numpy.random.rand
    trace_model(model, inputs, conformance=True)
    after = _state(model)
    assert before.keys() == after.keys() and "buffer:steps" in after
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert torch.equal(model.fc.weight.grad, torch.ones_like(model.fc.weight))
    assert [(name, m.training) for name, m in model.named_modules()] == flags
    assert [type(m) for m in model.modules()] == classes
    assert torch.equal(torch.get_rng_state(), rng[0])
    assert random.getstate() == rng[1]
    assert all(numpy.array_equal(a, b) if isinstance(a, numpy.ndarray) else a == b for a, b in zip(numpy.random.get_state(), rng[2]))
    assert sys.getprofile() is profile and numpy.random.rand is numpy_rand


def test_check_dropout_leaves_the_implementation_and_the_generators_as_found() -> None:
    import random

    import numpy

    class WithState(dropouts.GoodDropout):
        def __init__(self, p: float) -> None:
            super().__init__(p)
            self.scale = nn.Parameter(torch.ones(()))
            self.register_buffer("seen", torch.zeros(()), persistent=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.seen += 1
            random.random()
            numpy.random.rand()
            return super().forward(x) * self.scale

    layer = WithState(0.3)
    layer.eval()
    rng = (torch.get_rng_state(), random.getstate(), numpy.random.get_state()[1].copy())
    report = check_dropout(layer, 0.3)
    assert report.passed, report.describe()
    assert not layer.training and layer.scale.grad is None and float(layer.seen) == 0
    assert torch.equal(torch.get_rng_state(), rng[0]) and random.getstate() == rng[1]
    assert numpy.array_equal(numpy.random.get_state()[1], rng[2])
    layer.train()
    check_dropout(layer, 0.3)
    assert layer.training
