"""The tracer's targets a user names: files in packages, factories with arguments, timm
and Hugging Face names, keyword, dict and token inputs, and checkpoints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from torch import nn

from dropout_lint.tracer.inputs import make_tensors, parse_input
from dropout_lint.tracer.targets import TargetError, build_model, load_weights, make_inputs
from tests.helpers import run_dropout_lint

ROOT = Path(__file__).resolve().parent.parent
TRACER = ROOT / "fixtures" / "tracer"
CPU = torch.device("cpu")

FAKE_TIMM = '''
import torch.nn as nn

calls = []


def create_model(name, pretrained=False, **kwargs):
    calls.append((name, pretrained, kwargs))
    if name != "tiny_net":
        raise RuntimeError(f"Unknown model ({name})")
    return nn.Sequential(nn.Linear(8, 16), nn.Dropout(kwargs.get("drop_rate", 0.0)), nn.Linear(16, 2))
'''

FAKE_TRANSFORMERS = '''
import torch
import torch.nn as nn


class TinyConfig:
    def __init__(self, vocab_size=50, hidden_size=8, hidden_dropout_prob=0.1, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.hidden_dropout_prob = hidden_dropout_prob


class TinyForSequenceClassification(nn.Module):
    config_class = TinyConfig

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, 2)

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        raise AssertionError("the tracer must never download")

    def forward(self, input_ids, attention_mask=None):
        hidden = self.dropout(self.embed(input_ids))
        if attention_mask is not None:
            hidden = hidden * attention_mask.unsqueeze(-1)
        return self.classifier(hidden.mean(dim=1))
'''


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """build_model puts folders on sys.path and imports modules: undo both."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.split(".")[0] in {"tracer_pkg", "timm", "transformers", "safetensors", "models", "dropouts"}:
            del sys.modules[name]


def _cli(*args: str, cwd: Path = TRACER, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_dropout_lint(args, cwd, timeout=120, env=env)


# Files in packages and factories with arguments.


def test_a_file_in_a_package_is_imported_by_its_package_name() -> None:
    model, module = build_model(str(TRACER / "tracer_pkg" / "models.py") + ":build", {"num_classes": 3, "drop_rate": 0.3})
    assert module is not None and module.__name__ == "tracer_pkg.models"  # its `from .layers import` worked
    assert model.head.fc.out_features == 3 and model.body[2].p == 0.3


def test_a_module_name_and_a_dotted_attribute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(TRACER)
    model, _ = build_model("tracer_pkg.models:Classifier", {"num_classes": 5})
    assert model.head.fc.out_features == 5
    small, _ = build_model("tracer_pkg.models:Zoo.small")
    assert small.head.fc.out_features == 2
    with pytest.raises(TargetError, match="tracer_pkg.models has no 'Zoo.large'"):
        build_model("tracer_pkg.models:Zoo.large")


def test_init_arguments_the_factory_does_not_take_fail_at_build() -> None:
    with pytest.raises(TargetError, match=r"build\(\) failed: TypeError: .*unexpected keyword argument 'width'") as error:
        build_model(str(TRACER / "tracer_pkg" / "models.py") + ":build", {"width": 3})
    assert error.value.stage == "build"


def test_a_plain_file_outside_a_package_still_imports_as_before() -> None:
    model, module = build_model(str(TRACER / "models.py") + ":MLP")
    assert module is not None and module.__name__ == "models"
    assert isinstance(model, nn.Module)


# timm and transformers: optional, resolved without a download.


def test_timm_names_go_to_create_model_without_pretrained_weights(tmp_path: Path) -> None:
    """A stand-in ``timm.py`` with ``create_model`` (timm is not installed here): it
    checks how the target is resolved, not timm itself."""
    (tmp_path / "timm.py").write_text(FAKE_TIMM, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    model, module = build_model("timm:tiny_net", {"drop_rate": 0.25})
    assert module is None and model[1].p == 0.25
    assert sys.modules["timm"].calls == [("tiny_net", False, {"drop_rate": 0.25})]
    with pytest.raises(TargetError, match="never downloads weights"):
        build_model("timm:tiny_net", {"pretrained": True})
    with pytest.raises(TargetError, match=r"timm.create_model\('vit_huge'\) failed: RuntimeError: Unknown model"):
        build_model("timm:vit_huge")


def test_transformers_classes_are_built_from_their_config_class(tmp_path: Path) -> None:
    """A stand-in ``transformers`` package (not installed here) with one model class and
    its ``config_class``, whose ``from_pretrained`` fails the test if called."""
    (tmp_path / "transformers").mkdir()
    (tmp_path / "transformers" / "__init__.py").write_text(FAKE_TRANSFORMERS, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    model, _ = build_model("transformers:TinyForSequenceClassification", None, {"vocab_size": 7, "hidden_dropout_prob": 0.2})
    assert model.config.vocab_size == 7 and model.dropout.p == 0.2
    with pytest.raises(TargetError, match="transformers has no 'NoSuchModel'"):
        build_model("transformers:NoSuchModel")


@pytest.mark.parametrize("library", ["timm", "transformers"])
def test_a_missing_library_is_one_clear_line(library: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, library, None)  # how find_spec sees a module that is not there
    with pytest.raises(TargetError) as error:
        build_model(f"{library}:anything")
    assert str(error.value) == f"{library} is not installed: pip install {library}"
    assert error.value.stage == "import"


@pytest.mark.slow  # starts PyTorch in a child process
def test_a_missing_library_exits_2_from_the_command_line(tmp_path: Path) -> None:
    # sitecustomize hides timm in both processes, whether or not it is installed.
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['timm'] = None\n", encoding="utf-8")
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = _cli("trace", "timm:vit_tiny_patch16_224", "--input", "float[1,3,224,224]", env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "dropout-lint: error: the trace of timm:vit_tiny_patch16_224 failed (import): timm is not installed: pip install timm"
    )


def test_model_config_only_for_transformers_targets() -> None:
    with pytest.raises(TargetError, match="--model-config is the config of a transformers:ClassName target"):
        build_model(str(TRACER / "models.py") + ":MLP", None, {"hidden_size": 8})


@pytest.mark.slow  # starts PyTorch in a child process
def test_transformers_from_the_command_line_with_a_config_file(tmp_path: Path) -> None:
    """The same stand-in ``transformers``: the config file's vocab_size bounds the token ids."""
    (tmp_path / "transformers").mkdir()
    (tmp_path / "transformers" / "__init__.py").write_text(FAKE_TRANSFORMERS, encoding="utf-8")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"vocab_size": 12, "hidden_size": 8, "architectures": ["Tiny"]}), encoding="utf-8")
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = _cli(
        "trace",
        "transformers:TinyForSequenceClassification",
        "--model-config",
        str(config),
        "--input",
        "input_ids=long[4,32]",
        "--input",
        "attention_mask=long[4,32]{1,2}",
        "--format",
        "json",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    bad = _cli("trace", "transformers:TinyForSequenceClassification", "--model-config", "[1, 2]", env=env)
    assert bad.returncode == 2 and "--model-config must be a JSON object" in bad.stderr


# Inputs.


def test_keyword_and_positional_inputs() -> None:
    inputs = make_tensors([parse_input("float[2,3]"), parse_input("mask=bool[2,10]"), parse_input("ids=long[2,16]{5,9}")], CPU)
    assert [tuple(a.shape) for a in inputs.args] == [(2, 3)]
    assert inputs.kwargs["mask"].dtype == torch.bool and bool(inputs.kwargs["mask"].all())
    ids = inputs.kwargs["ids"]
    assert ids.dtype == torch.int64 and int(ids.min()) >= 5 and int(ids.max()) < 9


def test_dict_input_and_vocabulary() -> None:
    inputs = make_tensors([parse_input("x=float[4,16]"), parse_input("ids=int32[64]")], CPU, vocab_size=3, as_dict=True)
    assert inputs.kwargs == {} and set(inputs.args[0]) == {"x", "ids"}
    assert inputs.args[0]["ids"].dtype == torch.int32 and int(inputs.args[0]["ids"].max()) < 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("float[2,3", "cannot read the input"),
        ("float99[2]", "unknown dtype"),
        ("float[2]{0,5}", "a range {LOW,HIGH} is for integer inputs"),
        ("long[2]{5,5}", "the range of 'long[2]{5,5}' is empty"),
        ("2x=float[2]", "cannot read the input"),
    ],
)
def test_bad_inputs_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(TargetError, match=message.replace("{", r"\{").replace("[", r"\[")):
        parse_input(text)


def test_a_name_given_twice_and_a_dict_without_names() -> None:
    with pytest.raises(TargetError, match="the input 'x' is given twice"):
        make_tensors([parse_input("x=float[2]"), parse_input("x=float[3]")], CPU)
    with pytest.raises(TargetError, match="--dict-input passes the named inputs as one dict"):
        make_tensors([parse_input("float[2]")], CPU, as_dict=True)
    with pytest.raises(TargetError, match="--dict-input"):
        make_inputs([], None, None, CPU, as_dict=True)


@pytest.mark.slow  # starts PyTorch in a child process
def test_keyword_dict_and_token_inputs_from_the_command_line() -> None:
    masked = _cli("trace", "tracer_pkg/models.py:Masked", "--input", "x=float[8,16]", "--input", "mask=bool[8]", "--format", "json")
    assert masked.returncode == 0 and json.loads(masked.stdout) == [], masked.stderr
    batch = ("tracer_pkg/models.py:BatchDict", "--input", "x=float[8,16]", "--input", "mask=bool[8]")
    assert _cli("trace", *batch, "--dict-input").returncode == 0
    keywords = _cli("trace", *batch)
    assert keywords.returncode == 2 and "unexpected keyword argument 'x'" in keywords.stderr
    tokens = ("tracer_pkg.models:TokenModel", "--init", '{"vocab": 5}', "--input", "long[2,64]", "--format", "json")
    assert "outside the vocabulary of 5" in _cli("trace", *tokens).stderr  # [0, 10) unless told
    found = _cli("trace", *tokens, "--vocab-size", "5", "--select", "DL406")
    assert found.returncode == 1 and [f["code"] for f in json.loads(found.stdout)] == ["DL406", "DL406"]


def test_bad_init_json_is_a_usage_error() -> None:
    done = _cli("trace", "tracer_pkg/models.py:build", "--init", "{num_classes: 3}")
    assert done.returncode == 2 and "--init: not valid JSON" in done.stderr and "Traceback" not in done.stderr


# Weights.


def _net() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1), nn.Linear(4, 2))


@pytest.mark.parametrize(
    "wrap",
    [
        lambda sd: sd,
        lambda sd: {"model": sd},
        lambda sd: {"state_dict": sd, "epoch": 3},
        lambda sd: {"epoch": 3, "model_state_dict": sd, "optimizer_state_dict": {"state": {}, "param_groups": [{"lr": 0.1}]}},
        lambda sd: {"state_dict": {f"module.{k}": v for k, v in sd.items()}},
    ],
    ids=["plain", "model", "state_dict", "model_state_dict", "module-prefix"],
)
def test_checkpoints_are_unwrapped(wrap: object, tmp_path: Path) -> None:
    source = _net()
    path = tmp_path / "weights.pt"
    torch.save(wrap(source.state_dict()), path)  # type: ignore[operator]
    target = _net()
    load_weights(target, str(path))
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), target.state_dict().values()))


def test_a_checkpoint_without_a_state_dict_names_its_keys(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.pt"
    torch.save({"epoch": 3, "best": 0.5}, path)
    with pytest.raises(TargetError, match=r"ckpt.pt holds a checkpoint \(best, epoch\) with no state dict"):
        load_weights(_net(), str(path))


def test_safetensors_is_optional(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"\0" * 8)
    monkeypatch.setitem(sys.modules, "safetensors", None)
    with pytest.raises(TargetError, match="needs safetensors, which is not installed: pip install safetensors"):
        load_weights(_net(), str(path))


def test_safetensors_files_are_read_with_safetensors(tmp_path: Path) -> None:
    """A stand-in ``safetensors.torch`` (the package is not installed here) that reads a
    torch file: it checks that a ``.safetensors`` file goes through ``load_file`` and
    that its tensors (with a wrapper's prefix) load into the model."""
    package = tmp_path / "fake" / "safetensors"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "torch.py").write_text(
        "import torch\n\ndef load_file(path, device='cpu'):\n    return torch.load(path + '.pt', map_location=device)\n",
        encoding="utf-8",
    )
    sys.path.insert(0, str(tmp_path / "fake"))
    source = _net()
    path = tmp_path / "model.safetensors"
    torch.save({f"module.{k}": v for k, v in source.state_dict().items()}, str(path) + ".pt")
    path.write_bytes(b"")
    target = _net()
    load_weights(target, str(path))
    assert torch.equal(target[0].weight, source[0].weight)
