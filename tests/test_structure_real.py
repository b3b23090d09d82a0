"""Structure and rates in the forms found in real libraries: dead dropout (DL104) behind
a rate parameter whose 0.0 default callers override, behind exemptions that were broader
than the code they stood for, and behind bases outside the run; blocks that helper
functions build."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_project import run

ATTENTION = """\
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, dim, attn_drop=0.0):
        super().__init__()
        self.qkv = nn.Linear(dim, dim * 3)
        self.attn_drop = nn.Dropout(attn_drop)

    def forward(self, x):
        return self.qkv(x)


class Model(nn.Module):
    def __init__(self, dim=64, attn_drop_rate=0.0):
        super().__init__()
        self.attn = {build}

    def forward(self, x):
        return self.attn(x)
"""


@pytest.mark.parametrize(
    "build",
    [
        "Attention(dim, attn_drop=attn_drop_rate)",  # the caller's own setting, passed on
        "Attention(dim, attn_drop=0.1)",
        "Attention(dim, 0.1)",
        "Attention(dim, **kwargs)",
    ],
)
def test_a_zero_default_that_callers_override_is_no_placeholder(tmp_path: Path, build: str) -> None:
    source = ATTENTION.format(build=build).replace("attn_drop_rate=0.0)", "attn_drop_rate=0.0, **kwargs)")
    assert run(tmp_path, {"vit.py": source}, select=("DL104",)) == [("vit.py", 8, "DL104")]


@pytest.mark.parametrize("build", ["Attention(dim)", "Attention(dim, attn_drop=0.0)", "Attention(dim, 0)"])
def test_a_rate_that_is_zero_wherever_built_is_a_placeholder(tmp_path: Path, build: str) -> None:
    assert run(tmp_path, {"vit.py": ATTENTION.format(build=build)}, select=("DL104",)) == []


def test_a_zero_default_with_no_instantiation_seen_is_a_placeholder(tmp_path: Path) -> None:
    source = ATTENTION.split("class Model")[0]
    assert run(tmp_path, {"attention.py": source}, select=("DL104",)) == []


BLOCK = """\
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, cin, cout, drop=0.0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3)
        self.drop = nn.Dropout(drop)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.drop(torch.relu(self.conv(x))))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block(3, 16, {rate})

    def forward(self, x):
        return self.block(x)
"""


def test_placement_rules_read_the_rate_callers_give(tmp_path: Path) -> None:
    """DL103: the dropout feeding batch norm drops when the model builds its block with a
    rate, whatever the block's default."""
    assert run(tmp_path, {"net.py": BLOCK.format(rate="drop=0.25")}, select=("DL103",)) == [("net.py", 13, "DL103")]
    assert run(tmp_path, {"net.py": BLOCK.format(rate="drop=0.0")}, select=("DL103",)) == []


MODE = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, drop=0.0):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.drop = nn.Dropout(drop)

    def forward(self, x):
        return self.fc(self.drop(x))


def predict(path, batch):
    model = Net({rate})
    model.load_state_dict(torch.load(path))
    with torch.no_grad():
        return model(batch).argmax(dim=1)
"""


def test_mode_rules_read_the_rate_callers_give(tmp_path: Path) -> None:
    """A model without batch norm whose dropout rate is 0 wherever it is built computes
    the same in both modes (no DL301); built with a rate, it does not."""
    assert run(tmp_path, {"train.py": MODE.format(rate="drop=0.5")}, select=("DL301",)) == [("train.py", 19, "DL301")]
    assert run(tmp_path, {"train.py": MODE.format(rate="")}, select=("DL301",)) == []


def test_shallow_rate_rule_reads_the_rate_callers_give(tmp_path: Path) -> None:
    """DL205 compares the rates the layers run with, not a default that callers replace."""
    source = """\
    import torch.nn as nn


    class Head(nn.Module):
        def __init__(self, p=0.1):
            super().__init__()
            self.drop1 = nn.Dropout(0.3)
            self.fc = nn.Linear(8, 8)
            self.drop2 = nn.Dropout(p)

        def forward(self, x):
            return self.drop2(self.fc(self.drop1(x)))


    HEAD = Head(p={rate})
    """
    assert run(tmp_path, {"head.py": source.format(rate="0.5")}, select=("DL205",)) == []
    assert run(tmp_path, {"head.py": source.format(rate="0.1")}, select=("DL205",)) == [("head.py", 12, "DL205")]


UNUSED = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc = nn.Linear(4, 2)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
{body}
        return self.fc(x)

    def set_rate(self, p):
        for m in self.modules():
            if isinstance(m, nn.Dropout):
                m.p = p
"""


@pytest.mark.parametrize(
    "body",
    [
        "        assert isinstance(self, nn.Module)",
        "        if hasattr(self, 'scale'):\n            x = x * self.scale",
        "        print(type(self), id(self))",
    ],
)
def test_looking_at_self_applies_no_layer(tmp_path: Path, body: str) -> None:
    """`hasattr(self, ...)`, `isinstance(self, ...)`, `super(Cls, self)` and a loop that
    sets the rate of every submodule hand `self` to nothing that applies its layers."""
    assert run(tmp_path, {"net.py": UNUSED.format(body=body)}, select=("DL104",)) == [("net.py", 8, "DL104")]


@pytest.mark.parametrize(
    "body",
    [
        "        x = getattr(self, 'drop')(x)",
        "        x = run_layers(self, x)",
        "        for layer in self.children():\n            x = layer(x) if layer is not self.fc else x",
        "        for _, layer in self.named_children():\n            x = apply(layer, x)",
        "        x = [m for m in self.modules()][-1](x)",
    ],
)
def test_calls_that_may_apply_a_layer_keep_it_used(tmp_path: Path, body: str) -> None:
    assert run(tmp_path, {"net.py": UNUSED.format(body=body)}, select=("DL104",)) == []


EXTERNAL = """\
import torch.nn as nn
from transformers import BertModel, BertPreTrainedModel


class TokenClassifier(BertPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.bert = BertModel(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()
{forward}
"""


def test_a_base_outside_the_run_does_not_hide_a_dropout_its_own_forward_skips(tmp_path: Path) -> None:
    forward = """
    def forward(self, input_ids):
        return self.classifier(self.bert(input_ids)[0])
"""
    assert run(tmp_path, {"heads.py": EXTERNAL.format(forward=forward)}, select=("DL104",)) == [("heads.py", 9, "DL104")]


@pytest.mark.parametrize(
    "forward",
    [
        "",  # the base's forward runs
        "\n    def forward(self, input_ids):\n        return super().forward(input_ids)\n",
        "\n    def forward(self, input_ids):\n        return self.classify(self.bert(input_ids)[0])\n",
    ],
)
def test_a_base_outside_the_run_may_apply_what_the_class_calls_into(tmp_path: Path, forward: str) -> None:
    assert run(tmp_path, {"heads.py": EXTERNAL.format(forward=forward)}, select=("DL104",)) == []


def test_a_class_without_forward_whose_methods_skip_the_dropout(tmp_path: Path) -> None:
    """A model used through `encode` applies its layers there; a pure base class that
    applies none of them leaves that to subclasses the run may not see."""
    source = """\
    import torch.nn as nn


    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)
            self.drop = nn.Dropout(0.2)

        def encode(self, x):
            return self.fc(x)
    """
    assert run(tmp_path, {"enc.py": source}, select=("DL104",)) == [("enc.py", 8, "DL104")]
    base_only = source.split("    def encode")[0]
    assert run(tmp_path, {"enc.py": base_only}, select=("DL104",)) == []


def test_a_block_a_helper_function_builds_is_checked(tmp_path: Path) -> None:
    """DL103 inside `nn.Sequential(conv_block(3, 64), ...)`: the helper's own block."""
    source = """\
    import torch.nn as nn


    def conv_block(cin, cout, p=0.25):
        return nn.Sequential(nn.Conv2d(cin, cout, 3), nn.ReLU(), nn.Dropout(p), nn.BatchNorm2d(cout))


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(conv_block(3, 64), conv_block(64, 128))

        def forward(self, x):
            return self.features(x)
    """
    assert run(tmp_path, {"net.py": source}, select=("DL103",)) == [("net.py", 5, "DL103")]
    fixed = source.replace("nn.Dropout(p), nn.BatchNorm2d(cout)", "nn.BatchNorm2d(cout), nn.Dropout(p)")
    assert run(tmp_path, {"net.py": fixed}, select=("DL103",)) == []


def test_a_class_a_factory_returns_is_a_top_level_model(tmp_path: Path) -> None:
    """`def build(...): return Net(...)` in models.py: a run on that file alone (a
    pre-commit hook) sees `Net` as a model, so its input dropout is found (DL101)."""
    source = """\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self, num_classes):
            super().__init__()
            self.drop = nn.Dropout(0.5)
            self.fc = nn.Linear(784, num_classes)

        def forward(self, x):
            return self.fc(self.drop(x))


    def create_model(num_classes=10):
        return {built}
    """
    assert run(tmp_path, {"models.py": source.format(built="Net(num_classes)")}, select=("DL101",)) == [
        ("models.py", 11, "DL101")
    ]
    wrapped = source.format(built="nn.Sequential(nn.Flatten(), Net(num_classes))")
    assert run(tmp_path, {"models.py": wrapped}, select=("DL101",)) == []


@pytest.mark.parametrize("read", ["self.hparams.input_dropout", 'self.hparams["input_dropout"]'])
def test_lightning_hyperparameters_are_the_init_arguments(tmp_path: Path, read: str) -> None:
    """After `save_hyperparameters()`, `self.hparams.input_dropout` is the argument: its
    default and what callers pass decide the rate (DL101 on the input dropout)."""
    source = """\
    import lightning as L
    import torch.nn as nn


    class Model(L.LightningModule):
        def __init__(self, input_dropout=0.0):
            super().__init__()
            self.save_hyperparameters()
            self.drop = nn.Dropout({read})
            self.fc = nn.Linear(784, 10)

        def forward(self, x):
            return self.fc(self.drop(x))


    def build():
        return Model({given})
    """
    flagged = source.format(read=read, given="input_dropout=0.2")
    assert run(tmp_path, {"model.py": flagged}, select=("DL101",)) == [("model.py", 13, "DL101")]
    assert run(tmp_path, {"model.py": source.format(read=read, given="")}, select=("DL101",)) == []


def test_a_layer_the_owner_applies_through_its_part_is_used(tmp_path: Path) -> None:
    """LayoutLMv2's model applies `self.embeddings.dropout(x)` of its embeddings part."""
    source = """\
    import torch.nn as nn


    class Embeddings(nn.Module):
        def __init__(self, p):
            super().__init__()
            self.word = nn.Embedding(100, 8)
            self.dropout = nn.Dropout(p)

        def spatial(self, ids):
            return self.word(ids)


    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = Embeddings(0.1)

        def forward(self, ids):
            return self.embeddings.{applied}(self.embeddings.spatial(ids))
    """
    assert run(tmp_path, {"model.py": source.format(applied="dropout")}, select=("DL104",)) == []
    assert run(tmp_path, {"model.py": source.format(applied="word")}, select=("DL104",)) == [("model.py", 8, "DL104")]


def test_a_layer_added_to_a_part_is_not_the_class_own(tmp_path: Path) -> None:
    """`self.output.add_module("drop", ...)` registers into `self.output`, which applies it."""
    source = """\
    import torch.nn as nn


    class Attention(nn.Module):
        def __init__(self, dim, proj_drop=0.0):
            super().__init__()
            self.output = nn.Sequential()
            self.output.add_module("proj", nn.Conv2d(dim, dim, 1))
            self.output.add_module("drop", nn.Dropout(proj_drop))

        def forward(self, x):
            return self.output(x)


    class Block(nn.Module):
        def __init__(self, dim, proj_drop):
            super().__init__()
            self.attn = Attention(dim, proj_drop=proj_drop)

        def forward(self, x):
            return self.attn(x)
    """
    assert run(tmp_path, {"attention.py": source}, select=("DL104",)) == []


LEFTOVER = """\
import torch.nn as nn


class FeedForward(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.fc = nn.Linear(config.dim, config.dim)
        self.dropout = nn.Dropout(config.{child_rate})

    def forward(self, x):
        return self.dropout(self.fc(x))


class recurrentCell(nn.Module):
    def __init__(self, size, dropout=0.2):
        super().__init__()
        self.fc = nn.Linear(size, size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.fc(self.dropout(x))


class Layer(nn.Module):
    def __init__(self, config, size, n, dropout):
        super().__init__()
        self.ff = FeedForward(config)
        self.cells = nn.ModuleList([recurrentCell(size, {cell_rate}) for _ in range(n)])
        self.dropout = nn.Dropout(config.dropout)
        self.cell_dropout = nn.Dropout(dropout)

    def forward(self, x):
        for cell in self.cells:
            x = cell(x)
        return self.ff(x)
"""


@pytest.mark.parametrize(("child_rate", "cell_rate"), [("dropout", "dropout"), ("attention_dropout", "0.1")])
def test_a_leftover_is_reported_whatever_rate_its_parts_drop_with(tmp_path: Path, child_rate: str, cell_rate: str) -> None:
    """ALBERT's layer and speechbrain's Conformer layers pass the same rate to parts that
    drop with it, and their own dropout is still a missing one (labelled true positives):
    the same rate elsewhere does not make the unapplied dropout redundant."""
    source = LEFTOVER.format(child_rate=child_rate, cell_rate=cell_rate)
    assert run(tmp_path, {"layer.py": source}, select=("DL104",)) == [("layer.py", 29, "DL104"), ("layer.py", 30, "DL104")]


def test_a_rate_passed_to_a_class_with_a_lower_case_name_is_seen(tmp_path: Path) -> None:
    """``recurrentCell(size, 0.9)`` builds a class (pytorch-forecasting's ``mLSTMCell``):
    the rate it passes is read like any other."""
    source = LEFTOVER.format(child_rate="dropout", cell_rate="0.9")
    assert run(tmp_path, {"layer.py": source}, select=("DL202",)) == [("layer.py", 28, "DL202")]


@pytest.mark.parametrize("name", ['f"conv{i + 1}"', '"conv" + str(i + 1)', '"conv%d" % (i + 1)', '"conv{}".format(i + 1)'])
def test_a_name_built_at_run_time_reaches_only_what_it_starts_with(tmp_path: Path, name: str) -> None:
    """DeepNOG: `getattr(self, f"conv{i + 1}")` applies the convolutions, not `dropout1`."""
    source = f"""\
    import torch.nn as nn


    class DeepNOG(nn.Module):
        def __init__(self, kernels, dropout):
            super().__init__()
            for i, k in enumerate(kernels):
                self.add_module(f"conv{{i + 1}}", nn.Conv1d(8, 8, k))
            self.n = len(kernels)
            self.dropout1 = nn.Dropout(p=dropout)
            self.fc = nn.Linear(8, 2)

        def forward(self, x):
            out = [getattr(self, {name})(x) for i in range(self.n)]
            return self.fc(sum(out))
    """
    assert run(tmp_path, {"deepnog.py": source}, select=("DL104",)) == [("deepnog.py", 10, "DL104")]
    applied = source.replace("self.fc(sum(out))", "self.fc(self.dropout1(sum(out)))")
    assert run(tmp_path, {"deepnog.py": applied}, select=("DL104",)) == []


@pytest.mark.parametrize("test", ["self.is_training == True", "self.is_training is True", "not self.is_training == False"])
def test_a_home_made_flag_compared_with_true_switches_dropout(tmp_path: Path, test: str) -> None:
    """DL407: `if self.is_training == True:` gates dropout on a flag `model.eval()` never sets."""
    source = f"""\
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)
            self.is_training = True

        def forward(self, x):
            if {test}:
                x = F.dropout(x, 0.5)
            return self.fc(x)
    """
    assert run(tmp_path, {"net.py": source}, select=("DL407",)) == [("net.py", 13, "DL407")]
    gated = source.replace(test, test.replace("is_training", "training"))
    assert run(tmp_path, {"net.py": gated}, select=("DL401", "DL407")) == []


LAYERDROP_HELPER = """\
import torch
import torch.nn as nn


def drop_layers(layers, p):
    mask = torch.zeros(len(layers)).uniform_(0, 1) < p
    return [layer for layer, dropped in zip(layers, mask) if not dropped]


class Encoder(nn.Module):
    def __init__(self, n, layer_drop=0.1):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(n)])
        self.layer_drop = layer_drop

    def forward(self, x):
        layers = {layers}
        for layer in layers:
            x = layer(x)
        return x


def build():
    return Encoder(4)
"""

LAYERDROP_INLINE = """\
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, n, layer_drop=0.1):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(n)])
        self.layer_drop = layer_drop

    def forward(self, x):
        keep = torch.rand(len(self.layers)) >= self.layer_drop
        for layer, k in zip(self.layers, keep):
            if {test}:
                x = layer(x)
        return x


def build():
    return Encoder(4)
"""

EDGE_DROP = """\
import torch
import torch.nn as nn


class EdgeDrop(nn.Module):
    def __init__(self, p=0.2):
        super().__init__()
        self.p = p

    def forward(self, edge_index):
        mask = torch.rand(edge_index.size(1)) >= self.p
        return edge_index[:, mask]{gate}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.edges = EdgeDrop()

    def forward(self, e):
        return self.edges(e)


def build():
    return Net()
"""


def test_hand_written_layerdrop_and_edge_dropping_are_found(tmp_path: Path) -> None:
    """DL408 on the real forms of LayerDrop: a helper that filters the layer list by a
    random mask, an inline mask whose decisions the loop reads, and a random mask that
    drops edges by boolean indexing."""
    helper = LAYERDROP_HELPER.format(layers="drop_layers(self.layers, self.layer_drop)")
    assert run(tmp_path, {"enc.py": helper}, select=("DL408",)) == [("enc.py", 17, "DL408")]
    inline = LAYERDROP_INLINE.format(test="k")
    assert run(tmp_path, {"enc.py": inline}, select=("DL408",)) == [("enc.py", 12, "DL408")]
    assert run(tmp_path, {"edges.py": EDGE_DROP.format(gate="")}, select=("DL408",)) == [("edges.py", 11, "DL408")]


def test_gated_layerdrop_and_random_augmentation_are_not_reported(tmp_path: Path) -> None:
    gated = "drop_layers(self.layers, self.layer_drop) if self.training else self.layers"
    assert run(tmp_path, {"enc.py": LAYERDROP_HELPER.format(layers=gated)}, select=("DL408",)) == []
    inline = LAYERDROP_INLINE.format(test="k or not self.training")
    assert run(tmp_path, {"enc.py": inline}, select=("DL408",)) == []
    gate = " if self.training else edge_index"
    assert run(tmp_path, {"edges.py": EDGE_DROP.format(gate=gate)}, select=("DL408",)) == []
    # A random flip is augmentation: its probability is not named like a drop rate.
    flip = LAYERDROP_INLINE.replace("layer_drop", "p").replace("keep", "flip").format(test="k")
    assert run(tmp_path, {"enc.py": flip}, select=("DL408",)) == []


ARGPARSE = """\
import argparse

import torch.nn as nn


class Net(nn.Module):
    def __init__(self, dropout=0.1):
        super().__init__()
        self.fc = nn.Linear(784, 10)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return self.drop(self.fc(x)) + x


def main(args):
    return Net(dropout=args.dropout)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument({flags}, type=float, default={default})
    {parsed} = parser.parse_{how}()
    main(args)
"""


@pytest.mark.parametrize(
    "flags, parsed, how",
    [('"--dropout"', "args", "args"), ('"-d", "--dropout"', "args, _", "known_args"), ('"--drop", dest="dropout"', "args", "args")],
)
def test_a_rate_from_the_command_line_is_its_default(tmp_path: Path, flags: str, parsed: str, how: str) -> None:
    """`parser.add_argument("--dropout", default=0.9)` and `Net(dropout=args.dropout)`: DL202
    sees 0.9, and the message names the option and the line of its default."""
    source = ARGPARSE.format(flags=flags, parsed=parsed, how=how, default="0.9")
    assert run(tmp_path, {"train.py": source}, select=("DL202",)) == [("train.py", 17, "DL202")]
    assert run(tmp_path, {"train.py": ARGPARSE.format(flags=flags, parsed=parsed, how=how, default="0.2")}, select=("DL202",)) == []


def test_the_command_line_default_is_named_in_the_message(tmp_path: Path) -> None:
    from dropout_lint.config import Config
    from dropout_lint.runner import lint_files

    path = tmp_path / "train.py"
    path.write_text(ARGPARSE.format(flags='"--dropout"', parsed="args", how="args", default="0.9"), encoding="utf-8")
    [result] = lint_files([str(path)], Config(select=("DL202",)), jobs=1)
    assert "the default of `--dropout`, line 22" in result.diagnostics[0].message


FACTORY = """\
import torch.nn as nn
from monai.networks.layers import get_dropout_layer
from monai.networks.layers.factories import Conv, Dropout, Norm


class Down(nn.Module):
    def __init__(self, cin, cout, p=0.5):
        super().__init__()
        conv_type = Conv[Conv.CONV, {conv}]
        dropout_type = Dropout[Dropout.DROPOUT, {drop}]
        self.conv = conv_type(cin, cout, 3)
        self.bn = Norm[Norm.BATCH, {conv}](cout)
        self.act = nn.ReLU()
        self.drop = {build}

    def forward(self, x):
        return self.drop(self.act(self.bn(self.conv(x))))
"""


@pytest.mark.parametrize(
    "conv, drop, build",
    [
        ("2", "3", "dropout_type(p)"),
        ("3", "2", "Dropout[Dropout.DROPOUT, 2](p)"),
        ("3", "3", "get_dropout_layer(('dropout', {'p': p}), dropout_dim=2)"),
        ("1", "3", "get_dropout_layer(name='dropout', dropout_dim=3)"),
    ],
)
def test_channel_dropout_from_a_factory_of_another_dimension(tmp_path: Path, conv: str, drop: str, build: str) -> None:
    """MONAI's `Dropout[Dropout.DROPOUT, 3]` is `nn.Dropout3d` and `Conv[Conv.CONV, 2]`
    `nn.Conv2d`: a mismatch there is the one of the torch classes."""
    source = FACTORY.format(conv=conv, drop=drop, build=build)
    assert run(tmp_path, {"down.py": source}, select=("DL105",)) == [("down.py", 17, "DL105")]


@pytest.mark.parametrize(
    "conv, drop, build",
    [
        ("2", "2", "dropout_type(p)"),
        ("3", "1", "dropout_type(p)"),  # dimension 1 is plain nn.Dropout, right for any rank
        ("3", "3", "get_dropout_layer(('dropout', {'p': p}))"),  # dropout_dim defaults to 1
        ("2", "3", "get_dropout_layer(('alphadropout', {'p': p}), dropout_dim=3)"),
        ("spatial_dims", "dropout_dim", "dropout_type(p)"),  # parameters: the dimensions are not known
    ],
)
def test_factories_of_the_same_dimension_or_unknown_ones_are_silent(tmp_path: Path, conv: str, drop: str, build: str) -> None:
    source = FACTORY.format(conv=conv, drop=drop, build=build).replace("p=0.5", "p=0.5, spatial_dims=2, dropout_dim=3")
    assert run(tmp_path, {"down.py": source}, select=("DL105",)) == []


BLOCKS = """\
import torch.nn as nn
from monai.networks.layers.factories import Conv, Dropout


class Down(nn.Module):
    def __init__(self, spatial_dims, cin, p=None, dropout_dim=3):
        super().__init__()
        conv_type = Conv[Conv.CONV, spatial_dims]
        dropout_type = Dropout[Dropout.DROPOUT, {drop}]
        self.conv = conv_type(cin, 2 * cin, 2, stride=2)
        self.act = nn.ReLU()
        self.drop = {build} if p is not None else None

    def forward(self, x):
        down = self.act(self.conv(x))
        if self.drop is not None:
            return self.drop(down)
        return down


class Net(nn.Module):
    def __init__(self, spatial_dims=3, p=0.5):
        super().__init__()
        self.down = Down({args})

    def forward(self, x):
        return self.down(x)
"""


@pytest.mark.parametrize(
    "drop, build, args",
    [
        ("dropout_dim", "dropout_type(p)", "spatial_dims, 16, p"),  # MONAI's VNet: Net(spatial_dims=2) is possible
        ("dropout_dim", "dropout_type(p)", "2, 16, p"),
        ("dropout_dim", "dropout_type(p)", "spatial_dims, 16, p, dropout_dim=2"),
        ("3", "nn.Dropout3d(p)", "spatial_dims, 16, p"),
        ("3", "dropout_type(p)", "spatial_dims, 16, p"),
    ],
)
def test_a_dropout_dimension_fixed_beside_a_convolution_the_callers_choose(tmp_path: Path, drop: str, build: str, args: str) -> None:
    """MONAI's VNet blocks: `Dropout[Dropout.DROPOUT, dropout_dim]` is Dropout3d wherever
    the block is built (no caller passes `dropout_dim`), while the convolution beside it
    takes `spatial_dims`, which VNet's callers choose."""
    source = BLOCKS.format(drop=drop, build=build, args=args)
    assert run(tmp_path, {"net.py": source}, select=("DL105",)) == [("net.py", 17, "DL105")]


@pytest.mark.parametrize(
    "drop, build, args",
    [
        ("dropout_dim", "dropout_type(p)", "spatial_dims, 16, p, dropout_dim=spatial_dims"),  # both chosen together
        ("spatial_dims", "dropout_type(p)", "spatial_dims, 16, p"),  # one parameter for both
        ("dropout_dim", "dropout_type(p)", "3, 16, p"),  # 3 and 3 wherever built
        ("dropout_dim", "dropout_type(p)", "2, 16, p, dropout_dim=2"),
        ("dropout_dim", "dropout_type(p)", "spatial_dims, 16, p, dropout_dim=1"),  # dimension 1 is nn.Dropout
        ("dropout_dim", "nn.Dropout(p)", "spatial_dims, 16, p"),
    ],
)
def test_a_dropout_dimension_that_agrees_with_the_convolution_is_silent(tmp_path: Path, drop: str, build: str, args: str) -> None:
    source = BLOCKS.format(drop=drop, build=build, args=args)
    assert run(tmp_path, {"net.py": source}, select=("DL105",)) == []


def test_a_block_the_run_never_builds_leaves_its_dimensions_to_its_users(tmp_path: Path) -> None:
    source = BLOCKS.format(drop="dropout_dim", build="dropout_type(p)", args="spatial_dims, 16, p")
    source = source[: source.index("class Net")]
    assert run(tmp_path, {"net.py": source}, select=("DL105",)) == []


def test_the_dimensions_of_a_block_built_in_another_file_are_followed(tmp_path: Path) -> None:
    source = BLOCKS.format(drop="dropout_dim", build="dropout_type(p)", args="spatial_dims, 16, p")
    blocks, net = source[: source.index("class Net")], source[source.index("class Net") :]
    net = "import torch.nn as nn\nfrom blocks import Down\n\n\n" + net
    assert run(tmp_path, {"blocks.py": blocks, "net.py": net}, select=("DL105",)) == [("blocks.py", 17, "DL105")]


def test_factories_are_known_inside_monai_itself(tmp_path: Path) -> None:
    """In MONAI's own files its tables are names of the run (rooted), not plain imports."""
    source = BLOCKS.format(drop="dropout_dim", build="dropout_type(p)", args="2, 16, p")
    files = {
        "monai/__init__.py": "",
        "monai/networks/__init__.py": "",
        "monai/networks/layers/__init__.py": "",
        "monai/networks/layers/factories.py": "Conv = Dropout = None\n",
        "monai/networks/nets/__init__.py": "",
        "monai/networks/nets/vnet.py": source,
    }
    assert run(tmp_path, files, select=("DL105",)) == [("monai/networks/nets/vnet.py", 17, "DL105")]
