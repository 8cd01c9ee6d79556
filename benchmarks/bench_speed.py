"""How fast is cnncost? Run by hand: `python benchmarks/bench_speed.py [--runs 15]`.

Measures, in one run so that the figures share the machine's load:
  1. whole process: `python -m cnncost resnet152 --format json`, beside `python -c pass`
     (the interpreter's own start-up) as a peer;
  2. in process: the analysis time of resnet152 per model and per layer, with the spec
     already parsed, and the time to parse the spec;
  3. where torch is installed: `cnncost resnet50 --format json` against torch's
     FlopCounterMode counting the same ResNet-50 (benchmarks/torch_peer.py), both as whole
     processes, and the ratio.
Medians over repeated runs, with min and max, since shared machines are noisy.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def process(*args: str) -> Callable[[], object]:
    def run() -> None:
        subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)

    return run


def line(label: str, samples: list[float], unit: float = 1.0, suffix: str = "s") -> float:
    med = statistics.median(samples)
    print(
        f"  {label:<46} median {med / unit:9.4f} {suffix}   "
        f"(min {min(samples) / unit:.4f}, max {max(samples) / unit:.4f}, n={len(samples)})"
    )
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="repetitions per measurement")
    parser.add_argument("--model", default="resnet152")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {args.runs} runs each")

    print("\n1. whole process")
    bare = line("python -c pass", timed(process("-c", "pass"), args.runs))
    whole = line(
        f"cnncost {args.model} --format json",
        timed(process("-m", "cnncost", args.model, "--format", "json"), args.runs),
    )
    print(f"  cnncost's own share: {whole - bare:.4f} s (target: whole process < 0.3 s)")

    print("\n2. in process")
    from cnncost.build import build
    from cnncost.report import analyze_graph
    from cnncost.spec import load_spec
    from cnncost.zoo import builtin_models

    path, variant = builtin_models()[args.model]
    line("parse the spec file", timed(lambda: load_spec(path), args.runs), 1e-3, "ms")
    spec = load_spec(path)
    layers = len(build(spec, variant).nodes)
    analysis = line(
        f"expand + analyse {args.model} ({layers} layers)",
        timed(lambda: analyze_graph(build(spec, variant)), args.runs * 4),
        1e-3,
        "ms",
    )
    print(f"  per layer: {analysis / layers * 1e6:.1f} µs")

    print("\n3. against torch's FlopCounterMode (ResNet-50, whole process)")
    if importlib.util.find_spec("torch") is None:
        print("  torch is not installed here: skipped")
        return
    out = subprocess.run(
        [sys.executable, str(HERE / "torch_peer.py")], check=True, capture_output=True, text=True
    ).stdout.split()
    ours = subprocess.run(
        [sys.executable, "-m", "cnncost", "resnet50", "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    import json

    totals = json.loads(ours)["totals"]
    print(
        f"  torch: params {out[1]}, FLOPs {out[3]};  cnncost: params {totals['params']}, "
        f"FLOPs {totals['flops']} (= 2 × {totals['macs']} MACs)"
    )
    peer = line("torch FlopCounterMode", timed(process(str(HERE / "torch_peer.py")), args.runs))
    mine = line(
        "cnncost resnet50 --format json",
        timed(process("-m", "cnncost", "resnet50", "--format", "json"), args.runs),
    )
    print(f"  cnncost is {peer / mine:.1f}× faster (target: at least 10×)")


if __name__ == "__main__":
    main()
