"""What the runtime tracer costs: time on a small model, memory on a large one.

    .venv/bin/python benchmarks/tracer.py                 # CPU: peak RSS, wall time
    .venv/bin/python benchmarks/tracer.py --device cuda   # GPU: torch.cuda.max_memory_allocated too

Each measurement runs in a fresh process, so that one's peak does not hide another's:

- ``plain``: the model's own train step forward (autograd on, as in training) and an
  eval forward under ``no_grad``;
- ``plain-no-grad``: both forward passes under ``no_grad``, the least any run of the
  model costs;
- ``trace``: ``trace_model`` on the same model and inputs.

The model is ``LargeTransformer`` of ``fixtures/tracer/real.py`` (12 layers, width 512,
46 M parameters) on 8 sequences of 256 tokens; the time is that of tracing the
vision transformer of the same file (4 layers, width 32), with and without the
conformance check. Needs torch; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child(mode: str, device: str) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "fixtures" / "tracer"))
    import real
    import torch

    from dropout_lint.tracer.trace import Inputs, trace_model

    torch.manual_seed(0)
    if mode in ("plain", "plain-no-grad", "trace"):
        model = real.LargeTransformer().to(device)
        tokens = real.large_inputs().to(device)
    else:
        model = real.VisionTransformer().to(device)
        tokens = real.vit_inputs().to(device)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated() if device == "cuda" else 0
    started = time.perf_counter()
    if mode.startswith("plain"):
        model.train()
        with torch.set_grad_enabled(mode == "plain"):
            out = model(tokens)
        del out
        model.eval()
        with torch.no_grad():
            model(tokens)
    else:
        trace_model(model, Inputs((tokens,), {}), conformance=mode == "small-conformance")
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cuda_mib": (torch.cuda.max_memory_allocated() - before) / 2**20 if device == "cuda" else 0.0,
    }


def _measure(mode: str, device: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--device", device],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=3, help="runs of each timing (the best is shown)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.device)))
        return
    plain, bare, trace = (_measure(mode, args.device) for mode in ("plain", "plain-no-grad", "trace"))
    print(f"| large transformer on {args.device} | peak RSS (MiB) | CUDA peak above the model (MiB) |")
    print("|---|---|---|")
    for label, run in (("train + eval forward", plain), ("the same, both under no_grad", bare), ("trace", trace)):
        print(f"| {label} | {run['rss_mib']:.0f} | {run['cuda_mib']:.0f} |")
    for label, run in (("trace / train + eval", plain), ("trace / no_grad", bare)):
        cuda = trace["cuda_mib"] / run["cuda_mib"] if run["cuda_mib"] else 0.0
        print(f"| {label} | {trace['rss_mib'] / run['rss_mib']:.2f} | {cuda:.2f} |")
    print()
    print(f"| small vision transformer on {args.device} | wall (s), best of {args.runs} |")
    print("|---|---|")
    for mode in ("small", "small-conformance"):
        best = min(_measure(mode, args.device)["seconds"] for _ in range(args.runs))
        print(f"| trace{' --conformance' if mode.endswith('conformance') else ''} | {best:.2f} |")


if __name__ == "__main__":
    main()
