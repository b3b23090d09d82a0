"""The explicit list of rules and checks, and selection of rules by code or prefix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Optional

from dropout_lint.checks import (
    dl101_input_dropout,
    dl102_output_dropout,
    dl103_dropout_before_batchnorm,
    dl104_unused_dropout,
    dl105_dropout_dimension_mismatch,
    dl106_dropout_argument_ignored,
    dl201_invalid_dropout_rate,
    dl202_high_dropout_rate,
    dl203_keep_prob_as_rate,
    dl204_rate_changed_during_training,
    dl205_shallow_rate_above_deep,
    dl301_missing_eval,
    dl302_missing_train_after_eval,
    dl303_export_in_train_mode,
    dl304_mode_method_not_called,
    dl305_training_flag_assigned,
    dl306_train_override_skips_submodules,
    dl401_functional_dropout_always_on,
    dl402_dropout_module_in_forward,
    dl403_alpha_dropout_without_selu,
    dl404_dropout_forced_on,
    dl405_dropout_never_active,
    dl406_attention_dropout_always_on,
    dl407_hand_rolled_training_flag,
    dl408_custom_dropout_ignores_mode,
    dl409_dropout_result_discarded,
    dl410_mode_read_at_construction,
)
from dropout_lint.diagnostics import Severity
from dropout_lint.rule import Check, ProjectCheck, Rule

PARSE_ERROR = Rule(
    code="DL900",
    name="parse-error",
    severity=Severity.ERROR,
    summary="A file cannot be read or parsed; the run goes on with the other files.",
)
INTERNAL_ERROR = Rule(
    code="DL901",
    name="internal-error",
    severity=Severity.ERROR,
    summary="A check crashed on a file; the other checks and files go on.",
)
UNUSED_NOQA = Rule(
    code="DL902",
    name="unused-noqa",
    severity=Severity.INFO,
    summary="A `# noqa: DLxxx` comment suppresses nothing.",
)

CHECKS: tuple[type[Check], ...] = (
    dl201_invalid_dropout_rate.InvalidDropoutRate,
    dl202_high_dropout_rate.HighDropoutRate,
    dl203_keep_prob_as_rate.KeepProbAsRate,
    dl204_rate_changed_during_training.RateChangedDuringTraining,
    dl304_mode_method_not_called.ModeMethodNotCalled,
    dl305_training_flag_assigned.TrainingFlagAssigned,
    dl306_train_override_skips_submodules.TrainOverrideSkipsSubmodules,
    dl401_functional_dropout_always_on.FunctionalDropoutAlwaysOn,
    dl402_dropout_module_in_forward.DropoutModuleInForward,
    dl404_dropout_forced_on.DropoutForcedOn,
    dl405_dropout_never_active.DropoutNeverActive,
    dl406_attention_dropout_always_on.AttentionDropoutAlwaysOn,
    dl409_dropout_result_discarded.DropoutResultDiscarded,
    dl410_mode_read_at_construction.ModeReadAtConstruction,
)

# Rules of the runtime tracer (`dropout-lint trace`): no static check implements them.
TRACE_RULES: tuple[Rule, ...] = (
    Rule(
        code="DL501",
        name="dropout-active-in-eval",
        severity=Severity.ERROR,
        summary="(tracer) A dropout module drops values during an eval-mode forward pass.",
    ),
    Rule(
        code="DL502",
        name="eval-nondeterministic",
        severity=Severity.ERROR,
        summary="(tracer) Two eval-mode forward passes give different outputs.",
    ),
    Rule(
        code="DL503",
        name="dropout-nonconformant",
        severity=Severity.ERROR,
        summary="(tracer) A dropout implementation fails the reference check.",
    ),
    Rule(
        code="DL504",
        name="dropout-rate-mismatch",
        severity=Severity.WARNING,
        summary="(tracer) A dropout module's measured rate differs from its declared p.",
    ),
)

# Rules over the whole run: they read the project index built from every file.
PROJECT_CHECKS: tuple[type[ProjectCheck], ...] = (
    dl101_input_dropout.InputDropout,
    dl102_output_dropout.OutputDropout,
    dl103_dropout_before_batchnorm.DropoutBeforeBatchNorm,
    dl104_unused_dropout.UnusedDropout,
    dl105_dropout_dimension_mismatch.DropoutDimensionMismatch,
    dl106_dropout_argument_ignored.DropoutArgumentIgnored,
    dl201_invalid_dropout_rate.InvalidPassedRate,
    dl202_high_dropout_rate.HighPassedRate,
    dl205_shallow_rate_above_deep.ShallowRateAboveDeep,
    dl301_missing_eval.MissingEval,
    dl302_missing_train_after_eval.MissingTrainAfterEval,
    dl303_export_in_train_mode.ExportInTrainMode,
    dl403_alpha_dropout_without_selu.AlphaDropoutWithoutSelu,
    dl407_hand_rolled_training_flag.HandRolledTrainingFlag,
    dl408_custom_dropout_ignores_mode.CustomDropoutIgnoresMode,
)

RULES: tuple[Rule, ...] = tuple(
    sorted(
        {
            *(c.rule for c in CHECKS),
            *(c.rule for c in PROJECT_CHECKS),
            *TRACE_RULES,
            PARSE_ERROR,
            INTERNAL_ERROR,
            UNUSED_NOQA,
        },
        key=lambda r: r.code,
    )
)
RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}

# Codes that were used once and retired: never reuse them.
RETIRED: frozenset[str] = frozenset()

# A file that cannot be parsed, or a check that crashed on it, was not linted: no
# selection, per-file ignore or noqa comment hides that, or a run that checked nothing
# would pass as clean (ruff always shows syntax errors too).
ALWAYS_REPORTED: frozenset[str] = frozenset({PARSE_ERROR.code, INTERNAL_ERROR.code})


def _matches(selector: str, code: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def validate_selectors(selectors: Iterable[str], where: str) -> None:
    for selector in selectors:
        if selector == "ALL":
            continue
        if not any(_matches(selector, rule.code) for rule in RULES):
            from dropout_lint.config import ConfigError

            raise ConfigError(f"{where}: unknown rule code or prefix {selector!r}")


def expand_selectors(selectors: Iterable[str]) -> frozenset[str]:
    """Every code matched by codes, prefixes (``DL4``) or ``ALL``."""
    selectors = tuple(selectors)
    return frozenset(rule.code for rule in RULES if any(_matches(s, rule.code) for s in selectors))


def resolve_selection(
    select: Optional[Sequence[str]], extend_select: Sequence[str], ignore: Sequence[str]
) -> frozenset[str]:
    """The enabled codes: ``select`` (or every rule that is on by default), plus
    ``extend_select``, minus ``ignore``, and always ``ALWAYS_REPORTED``. Info rules are
    on only when selected."""
    if select is None:
        base = {rule.code for rule in RULES if rule.default_enabled}
    else:
        base = set(expand_selectors(select))
    base |= expand_selectors(extend_select)
    base -= expand_selectors(ignore)
    return frozenset(base | ALWAYS_REPORTED)
