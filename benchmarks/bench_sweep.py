"""How fast is `cnncost sweep`? Run by hand: `python benchmarks/bench_sweep.py [--runs 7]`.

Measures, in one run so that the figures share the machine's load:
  1. in process: the sweep of N input sizes (default ResNet-50, 64:4060:4, N = 1,000)
     against its peer, a loop calling cnncost.analyze at each size (timed on a sample of
     the sizes and scaled to N, since the loop itself takes seconds), and the ratio;
  2. whole process: `python -m cnncost sweep MODEL --res ... --format json`, beside one
     single run `python -m cnncost MODEL --format json` as the peer.
Every swept point is also checked against the loop's figures at the sampled sizes.
Medians over repeated runs, with min and max.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def line(label: str, samples: list[float]) -> float:
    med = statistics.median(samples)
    print(
        f"  {label:<58} median {med:8.4f} s   "
        f"(min {min(samples):.4f}, max {max(samples):.4f}, n={len(samples)})"
    )
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--res", default="64:4060:4")
    parser.add_argument("--loop-sample", type=int, default=100, help="sizes the loop times")
    args = parser.parse_args()

    import cnncost
    from cnncost import sweep

    sides = sweep.parse_values(args.res, "--res", integer=True)
    shapes = [(3, s, s) for s in sides]
    step = max(1, len(shapes) // args.loop_sample)
    sample = shapes[::step]
    print(
        f"python {platform.python_version()} on {platform.machine()}, {args.runs} runs; "
        f"{args.model} at {len(shapes)} sizes ({args.res})"
    )

    sweep.run(args.model, inputs=shapes)  # warm the spec cache and numpy
    result = sweep.run(args.model, inputs=shapes)
    by_shape = {p.input: p for p in result.points}
    for shape in sample:
        t = cnncost.analyze(args.model, input_shape=shape).totals
        p = by_shape[shape]
        assert (p.params, p.macs, p.activations) == (t.params, t.macs, t.activations), shape
    print(f"  checked: {len(sample)} sampled points equal cnncost.analyze exactly")
    print(f"  vectorised points: {result.vectorised}, one by one: {result.scalar}")

    swept = line(
        f"in process: sweep of {len(shapes)} sizes",
        timed(lambda: sweep.run(args.model, inputs=shapes), args.runs),
    )

    def loop() -> None:
        for shape in sample:
            cnncost.analyze(args.model, input_shape=shape)

    per_size = [t / len(sample) for t in timed(loop, max(3, args.runs // 2))]
    looped = line(
        f"in process: loop over cnncost.analyze, per size (n={len(sample)})",
        per_size,
    )
    print(
        f"  loop scaled to {len(shapes)} sizes: {looped * len(shapes):.2f} s; "
        f"the sweep is {looped * len(shapes) / swept:.0f}× faster"
    )
    command = [
        sys.executable,
        "-m",
        "cnncost",
        "sweep",
        args.model,
        "--res",
        args.res,
        "--format",
        "json",
    ]
    whole = line(
        "whole process: cnncost sweep ... --format json",
        timed(
            lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL),
            args.runs,
        ),
    )
    single = [sys.executable, "-m", "cnncost", args.model, "--format", "json"]
    one = line(
        f"whole process, the peer: cnncost {args.model} --format json",
        timed(
            lambda: subprocess.run(single, check=True, stdout=subprocess.DEVNULL),
            args.runs,
        ),
    )
    print(f"  the sweep of {len(shapes)} sizes costs {whole / one:.1f} single runs")


if __name__ == "__main__":
    main()
