"""Shared wording for findings about the train/eval mode of a model."""

from __future__ import annotations

from dropout_lint.project.modes import ModeLayer, Via
from dropout_lint.rule import LINE


def in_training(layers: frozenset[ModeLayer]) -> str:
    """What a model in training mode does wrong when it is evaluated."""
    if ModeLayer.DROPOUT in layers and ModeLayer.BATCH_NORM in layers:
        return "its dropout is active and its batch norm uses batch statistics"
    if ModeLayer.DROPOUT in layers:
        return "its dropout is active"
    if ModeLayer.BATCH_NORM in layers:
        return "its batch norm uses batch statistics"
    return "its dropout and batch norm (if any) behave as in training"


def in_eval(layers: frozenset[ModeLayer]) -> str:
    """What a training step does wrong on a model in eval mode."""
    if ModeLayer.DROPOUT in layers and ModeLayer.BATCH_NORM in layers:
        return "runs without dropout and with frozen batch-norm statistics"
    if ModeLayer.DROPOUT in layers:
        return "runs without dropout"
    if ModeLayer.BATCH_NORM in layers:
        return "runs with frozen batch-norm statistics"
    return "runs without its dropout (if any)"


def through(via: Via | None, verb: str) -> str:
    """``validate()` evaluates it at line 22: `` before a message about a helper's use."""
    return f"`{via.function}()` {verb} it at line {LINE}: " if via is not None else ""
