"""What a rule is, and every rule of dropout-lint, declared once: its code, name,
severity, summary, fix safety, and the classes that implement it.

This module is data. It imports no check, so that the catalog is there for what needs
only the rules' names (selection, reporters, ``dropout-lint rules``) and for a run whose
files all come from the cache, without libcst, which the checks of the syntax tree
import. ``registry`` imports a rule's check classes when a run first needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from dropout_lint.diagnostics import FixSafety, Severity


@dataclass(frozen=True)
class Rule:
    """A rule's identity: stable code, kebab-case name, severity and one-line summary;
    and the classes that implement it, each named ``module:Class`` (a module of
    ``dropout_lint.checks``), which ``registry`` imports when a run first needs them."""

    code: str
    name: str
    severity: Severity
    summary: str
    fix_safety: Optional[FixSafety] = None
    file_check: Optional[str] = None  # a ``Check`` of each file's syntax tree
    project_check: Optional[str] = None  # a ``ProjectCheck`` over the project index
    # The words (a regular expression, any case) without which a file cannot give the rule
    # a finding, so that the pre-filter skips it unparsed (see ``prefilter``); None: any
    # file may matter (a cross-file rule's finding can depend on a file that names no
    # dropout at all).
    words: Optional[str] = None

    @property
    def default_enabled(self) -> bool:
        """Info rules give advice and are off unless selected."""
        return self.severity is not Severity.INFO


# Every dropout API the rules know has one of these words in its name (``Dropout``,
# ``dropout2d``, ``scaled_dot_product_attention``, ``flash_attn_func``,
# ``MultiheadAttention``, ``LSTM``...), and an alias is still imported by that name, so a
# file without any of them cannot call one.
DROPOUT_API = r"drop|attention|attn|transformer|lstm|gru|rnn"

# The static rules: a check of each file's syntax tree (``file_check``), a check over the
# project index built from every file's summary (``project_check``), or both.

DL101 = Rule(
    code="DL101",
    name="input-dropout",
    severity=Severity.WARNING,
    summary="The first layer a top-level model applies to its raw input is dropout.",
    project_check="dl101_input_dropout:InputDropout",
)

DL102 = Rule(
    code="DL102",
    name="output-dropout",
    severity=Severity.WARNING,
    summary="A top-level model's output is the output of a dropout.",
    project_check="dl102_output_dropout:OutputDropout",
)

DL103 = Rule(
    code="DL103",
    name="dropout-before-batchnorm",
    severity=Severity.WARNING,
    summary="Dropout feeds straight into a BatchNorm layer (variance shift between train and eval).",
    project_check="dl103_dropout_before_batchnorm:DropoutBeforeBatchNorm",
)

DL104 = Rule(
    code="DL104",
    name="unused-dropout",
    severity=Severity.WARNING,
    summary="A dropout module is registered in `__init__` but `forward` never applies it.",
    project_check="dl104_unused_dropout:UnusedDropout",
)

DL105 = Rule(
    code="DL105",
    name="dropout-dimension-mismatch",
    severity=Severity.WARNING,
    summary="Channel dropout (Dropout1d/2d/3d) is applied to features of the wrong rank.",
    project_check="dl105_dropout_dimension_mismatch:DropoutDimensionMismatch",
)

DL106 = Rule(
    code="DL106",
    name="dropout-argument-ignored",
    severity=Severity.WARNING,
    summary="A module's constructor takes a dropout setting that never reaches a layer.",
    project_check="dl106_dropout_argument_ignored:DropoutArgumentIgnored",
)

DL201 = Rule(
    code="DL201",
    name="invalid-dropout-rate",
    severity=Severity.ERROR,
    summary="The dropout probability is outside [0, 1], equals 1, or is not a number.",
    file_check="dl201_invalid_dropout_rate:InvalidDropoutRate",
    project_check="dl201_invalid_passed_rate:InvalidPassedRate",
)

DL202 = Rule(
    code="DL202",
    name="high-dropout-rate",
    severity=Severity.WARNING,
    summary="The dropout probability is above the configured maximum (default 0.5).",
    file_check="dl202_high_dropout_rate:HighDropoutRate",
    project_check="dl202_high_dropout_rate:HighPassedRate",
)

DL203 = Rule(
    code="DL203",
    name="keep-prob-as-rate",
    severity=Severity.WARNING,
    summary="A keep probability (a name like `keep_prob`) is passed where torch expects the drop probability.",
    file_check="dl203_keep_prob_as_rate:KeepProbAsRate",
    words=DROPOUT_API,
)

DL204 = Rule(
    code="DL204",
    name="rate-changed-during-training",
    severity=Severity.WARNING,
    summary="A dropout rate is changed, or a dropout layer added, inside a training loop.",
    file_check="dl204_rate_changed_during_training:RateChangedDuringTraining",
    words=DROPOUT_API,
)

DL205 = Rule(
    code="DL205",
    name="shallow-rate-above-deep",
    severity=Severity.INFO,
    summary="Within one model, an earlier dropout has a higher rate than a later one.",
    project_check="dl205_shallow_rate_above_deep:ShallowRateAboveDeep",
)

DL301 = Rule(
    code="DL301",
    name="missing-eval",
    severity=Severity.WARNING,
    summary="Evaluation or inference runs a model that is in training mode on some path.",
    project_check="dl301_missing_eval:MissingEval",
)

DL302 = Rule(
    code="DL302",
    name="missing-train-after-eval",
    severity=Severity.ERROR,
    summary="Inside a training loop the model is in eval mode when the next training step runs.",
    project_check="dl302_missing_train_after_eval:MissingTrainAfterEval",
)

DL303 = Rule(
    code="DL303",
    name="export-in-train-mode",
    severity=Severity.WARNING,
    summary="`torch.jit.trace`, `torch.export.export` or similar captures a model that is in training mode.",
    project_check="dl303_export_in_train_mode:ExportInTrainMode",
)

DL304 = Rule(
    code="DL304",
    name="mode-method-not-called",
    severity=Severity.ERROR,
    summary="`model.eval` or `model.train` is written without parentheses, which does nothing.",
    fix_safety=FixSafety.SAFE,
    file_check="dl304_mode_method_not_called:ModeMethodNotCalled",
    words=r"\.\s*(?:eval|train)\b",
)

DL305 = Rule(
    code="DL305",
    name="training-flag-assigned",
    severity=Severity.ERROR,
    summary="`model.training = ...` is assigned directly, so submodules keep their old mode.",
    fix_safety=FixSafety.SAFE,
    file_check="dl305_training_flag_assigned:TrainingFlagAssigned",
    words=r"\.\s*training\b",
)

DL306 = Rule(
    code="DL306",
    name="train-override-skips-submodules",
    severity=Severity.WARNING,
    summary="A `train(self, mode)` override does not pass the mode on to every child.",
    file_check="dl306_train_override_skips_submodules:TrainOverrideSkipsSubmodules",
    words=r"def\s+train\b",
)

DL401 = Rule(
    code="DL401",
    name="functional-dropout-always-on",
    severity=Severity.ERROR,
    summary="`F.dropout` (or `dropout1d/2d/3d`) is called inside a module without a `training` argument.",
    fix_safety=FixSafety.UNSAFE,
    file_check="dl401_functional_dropout_always_on:FunctionalDropoutAlwaysOn",
    words=DROPOUT_API,
)

DL402 = Rule(
    code="DL402",
    name="dropout-module-in-forward",
    severity=Severity.ERROR,
    summary="A dropout module is constructed inside `forward`, where it is always in training mode.",
    file_check="dl402_dropout_module_in_forward:DropoutModuleInForward",
    words=DROPOUT_API,
)

DL403 = Rule(
    code="DL403",
    name="alpha-dropout-without-selu",
    severity=Severity.INFO,
    summary="AlphaDropout is used in a model without SELU activations.",
    project_check="dl403_alpha_dropout_without_selu:AlphaDropoutWithoutSelu",
)

DL404 = Rule(
    code="DL404",
    name="dropout-forced-on",
    severity=Severity.INFO,
    summary="Functional dropout is given `training=True` literally, so it also drops at eval.",
    file_check="dl404_dropout_forced_on:DropoutForcedOn",
    words=DROPOUT_API,
)

DL405 = Rule(
    code="DL405",
    name="dropout-never-active",
    severity=Severity.WARNING,
    summary="Functional dropout never drops: `training=False` or `p=0` literally, or alpha dropout without `training`.",
    file_check="dl405_dropout_never_active:DropoutNeverActive",
    words=DROPOUT_API,
)

DL406 = Rule(
    code="DL406",
    name="attention-dropout-always-on",
    severity=Severity.ERROR,
    summary="An attention kernel's `dropout_p` inside a module is not gated on `self.training`.",
    fix_safety=FixSafety.UNSAFE,
    file_check="dl406_attention_dropout_always_on:AttentionDropoutAlwaysOn",
    # No words: the attention function that passes the rate on may sit in a file that
    # names no dropout (see ``project.attention``).
    project_check="dl406_attention_rate_passed:AttentionRatePassed",
)

DL407 = Rule(
    code="DL407",
    name="hand-rolled-training-flag",
    severity=Severity.WARNING,
    summary="Dropout is switched by a home-made flag that nothing changes alongside `train()`/`eval()`.",
    project_check="dl407_hand_rolled_training_flag:HandRolledTrainingFlag",
)

DL408 = Rule(
    code="DL408",
    name="custom-dropout-ignores-mode",
    severity=Severity.WARNING,
    summary="A module's `forward` drops values or whole layers at random without consulting `self.training`.",
    project_check="dl408_custom_dropout_ignores_mode:CustomDropoutIgnoresMode",
)

DL409 = Rule(
    code="DL409",
    name="dropout-result-discarded",
    severity=Severity.ERROR,
    summary="The result of a dropout that is not in place is thrown away, so the dropout does nothing.",
    file_check="dl409_dropout_result_discarded:DropoutResultDiscarded",
    words=DROPOUT_API,
)

DL410 = Rule(
    code="DL410",
    name="mode-read-at-construction",
    severity=Severity.ERROR,
    summary="`self.training` is read in `__init__`, where it is always `True`, to choose a rate or a code path.",
    file_check="dl410_mode_read_at_construction:ModeReadAtConstruction",
    words=r"\.\s*training\b",
)


# The rules of the runtime tracer (`dropout-lint trace`): no static check implements them.
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

# The engine's own rules.
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
    words=r"noqa",
)

RULES: tuple[Rule, ...] = tuple(
    sorted(
        (
            DL101, DL102, DL103, DL104, DL105, DL106, DL201, DL202, DL203, DL204, DL205, DL301,
            DL302, DL303, DL304, DL305, DL306, DL401, DL402, DL403, DL404, DL405, DL406,
            DL407, DL408, DL409, DL410,
            *TRACE_RULES,
            PARSE_ERROR,
            INTERNAL_ERROR,
            UNUSED_NOQA,
        ),
        key=lambda rule: rule.code,
    )
)
