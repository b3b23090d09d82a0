"""The tracer's child process: builds the target, traces it, writes JSON.

Run by ``dropout_lint.tracer.process`` with the request as JSON on stdin and the path
of the result file as the only argument, so that the user's code runs apart from the
linter (and can be stopped when it hangs).
"""

from __future__ import annotations

import json
import sys
import traceback
import warnings
from dataclasses import asdict
from typing import Any

import torch

from dropout_lint.tracer.inputs import parse_input, parse_shape
from dropout_lint.tracer.sites import subjects, watching_modules
from dropout_lint.tracer.targets import (
    TargetError,
    build_model,
    load_weights,
    make_inputs,
    pick_device,
    vocab_size_of,
)
from dropout_lint.tracer.trace import trace_model


def _run(request: dict[str, Any]) -> dict[str, Any]:
    torch.manual_seed(int(request.get("seed", 0)))
    device = pick_device(request.get("device", "auto"))
    specs = [parse_input(text) for text in request.get("inputs", [])]
    specs += [parse_shape(text, request.get("dtype", "float32")) for text in request.get("shapes", [])]
    with watching_modules() as sites:
        model, module = build_model(request["target"], request.get("init"), request.get("model_config"))
        if request.get("weights"):
            load_weights(model, request["weights"])
        try:
            model = model.to(device)
        except Exception as error:
            raise TargetError("device", f"moving the model to {device} failed: {type(error).__name__}: {error}") from error
        inputs = make_inputs(
            specs,
            request.get("example_inputs"),
            module,
            device,
            vocab_size=request.get("vocab_size") or vocab_size_of(model),
            as_dict=bool(request.get("dict_input")),
        )
        try:
            result = trace_model(model, inputs, seed=int(request.get("seed", 0)), conformance=bool(request.get("conformance")))
        except torch.cuda.OutOfMemoryError as error:
            raise TargetError("memory", f"the model does not fit on {device}: {error}") from error
        except Exception as error:
            message = str(error)
            stage = "memory" if "out of memory" in message.lower() else "forward"
            raise TargetError(stage, f"the forward pass failed: {type(error).__name__}: {message}") from error
    return {
        "ok": True,
        "model": type(model).__name__,
        "device": str(device),
        "seconds": result.seconds,
        "findings": [{**asdict(f), "modules": subjects(model, sites, f.file, f.line)} for f in result.findings],
        "calls": [asdict(c) for c in result.calls],
        "modules": result.modules,
    }


def main() -> None:
    request = json.loads(sys.stdin.read())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            answer = _run(request)
        except TargetError as error:
            answer = {"ok": False, "stage": error.stage, "message": str(error)}
        except Exception as error:  # anything else is a bug of the tracer, reported as such
            answer = {
                "ok": False,
                "stage": "tracer",
                "message": f"{type(error).__name__}: {error}",
                "traceback": traceback.format_exc(),
            }
    with open(sys.argv[1], "w", encoding="utf-8") as handle:
        json.dump(answer, handle)


if __name__ == "__main__":
    main()
