"""How fast is the training cost? Run by hand: `python benchmarks/bench_training.py [--runs 15]`.

Measures, in one run so that the figures share the machine's load:
  1. in process: analyze_training on an already-built graph and report (ResNet-50 and
     ViT-B/16 at batch 64, Adam, AMP), per model and per layer;
  2. where torch is installed: verify --train's torch side, one forward and backward step
     of ResNet-50 at batch 2 and 64×64 with the hooks and the counter, as the peer cnncost
     replaces (only torch can count a backward pass, and only by running it).
Medians over repeated runs, with min and max, since shared machines are noisy.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from collections.abc import Callable

import cnncost
from cnncost.report import analyze_graph
from cnncost.training import TrainOptions, analyze_training


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def line(label: str, samples: list[float], per: int = 1) -> str:
    median = statistics.median(samples)
    text = f"{label:<44} median {median * 1e3:9.2f} ms (min {min(samples) * 1e3:.2f}, "
    text += f"max {max(samples) * 1e3:.2f})"
    return text + (f"; {median / per * 1e6:.1f} µs per layer" if per > 1 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    options = TrainOptions(optimizer="adam", amp=True)
    for model in ("resnet50", "vit_b_16"):
        graph = cnncost.build_graph(model, batch=64)
        report = analyze_graph(graph)
        samples = timed(lambda g=graph, r=report: analyze_training(g, r, options), args.runs)
        print(line(f"analyze_training {model} (batch 64, adam, amp)", samples, len(graph.nodes)))
    if importlib.util.find_spec("torch") is None:
        print("torch not installed: no peer")
        return
    from cnncost.backend.train_verify import verify_training

    graph = cnncost.build_graph("resnet50", input_shape=(3, 64, 64), batch=2)
    samples = timed(lambda: verify_training(graph), max(1, args.runs // 5))
    print(line("torch step + hooks, resnet50 (batch 2, 64x64)", samples))


if __name__ == "__main__":
    main()
