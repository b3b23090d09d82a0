"""Shared wording for findings about the train/eval mode of a model."""

from __future__ import annotations

from dropout_lint.project.modes import ModeLayer, Via
from dropout_lint.project.place import LINE


def in_training(layers: frozenset[ModeLayer]) -> str:
    """What is wrong with a model in training mode when it is evaluated: `` (dropout on)``;
    nothing more where its layers are not known."""
    if ModeLayer.DROPOUT in layers and ModeLayer.BATCH_NORM in layers:
        return " (dropout on, batch norm on batch statistics)"
    if ModeLayer.DROPOUT in layers:
        return " (dropout on)"
    if ModeLayer.BATCH_NORM in layers:
        return " (batch norm on batch statistics)"
    return ""


def in_eval(layers: frozenset[ModeLayer]) -> str:
    """What is wrong with a model in eval mode when it is trained: `` (dropout off)``;
    nothing more where its layers are not known."""
    if ModeLayer.DROPOUT in layers and ModeLayer.BATCH_NORM in layers:
        return " (dropout off, batch norm on running statistics)"
    if ModeLayer.DROPOUT in layers:
        return " (dropout off)"
    if ModeLayer.BATCH_NORM in layers:
        return " (batch norm on running statistics)"
    return ""


def through(via: Via | None) -> str:
    """`` in `validate()` at line 22,``: where a helper the model is given uses it."""
    return f" in `{via.function}()` at line {LINE}," if via is not None else ""
