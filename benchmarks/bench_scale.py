"""How cost grows with the number of layers. Run by hand: `python benchmarks/bench_scale.py
[--runs 3] [--sizes 1000,10000,100000]`.

For each size N, a synthetic spec repeats a conv + relu block N/2 times (N layers, plus
the input row), as issue 12 asks. It measures:
  1. the whole command, `python -m cnncost big.yaml --format json > /dev/null`: wall
     time, CPU time (user + system) and peak resident memory of the child process;
  2. in process, the CPU time of each phase: parse, build (expand + shapes), analyze
     (costs, receptive fields), JSON rendering.
Medians over the runs. CPU time is printed beside wall time because a shared machine's
load inflates wall time; per-layer figures show whether the growth is linear.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def write_spec(folder: Path, layers: int) -> Path:
    path = folder / f"big_{layers}.yaml"
    path.write_text(
        f"name: big_{layers}\n"
        "input: [16, 8, 8]\n"
        "blocks:\n"
        "  unit:\n"
        "    layers:\n"
        "      conv: {op: conv2d, out: 16, kernel: 3, padding: 1}\n"
        "      relu: {op: relu}\n"
        "layers:\n"
        f"  body: {{block: unit, repeat: {layers // 2}}}\n",
        encoding="utf-8",
    )
    return path


def whole_command(spec: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (bytes) of one `cnncost SPEC --format json`."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run([sys.executable, '-m', 'cnncost', sys.argv[1], '--format', 'json'],"
        " check=True, stdout=subprocess.DEVNULL)\n"
        "wall = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(wall, u.ru_utime + u.ru_stime, u.ru_maxrss * 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(spec)], env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def phases(spec: Path) -> dict[str, float]:
    """CPU seconds of each phase, in this process, with the collector paused as the CLI
    pauses it."""
    sys.path.insert(0, str(REPO))
    from cnncost.build import build
    from cnncost.render.plain import to_json
    from cnncost.report import analyze_graph
    from cnncost.spec import load_spec

    gc.disable()
    try:
        t0 = time.process_time()
        parsed = load_spec(spec)
        t1 = time.process_time()
        graph = build(parsed)
        t2 = time.process_time()
        report = analyze_graph(graph)
        t3 = time.process_time()
        to_json(report)
        t4 = time.process_time()
    finally:
        gc.enable()
    return {"parse": t1 - t0, "build": t2 - t1, "analyze": t3 - t2, "json": t4 - t3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}, median of {args.runs} runs"
    )
    print(
        f"{'layers':>8} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'µs/layer':>9} | "
        f"{'parse':>6} {'build':>6} {'analyze':>7} {'json':>6} (CPU s, in process)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            spec = write_spec(Path(tmp), n)
            runs = [whole_command(spec) for _ in range(args.runs)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            peak = statistics.median(r[2] for r in runs) / 1e6
            parts = [phases(spec) for _ in range(args.runs)]
            med = {k: statistics.median(p[k] for p in parts) for k in parts[0]}
            inner = sum(med.values())
            print(
                f"{n:>8} {wall:>8.2f} {cpu:>8.2f} {peak:>8.0f} {inner / n * 1e6:>9.1f} | "
                f"{med['parse']:>6.2f} {med['build']:>6.2f} {med['analyze']:>7.2f} "
                f"{med['json']:>6.2f}"
            )


if __name__ == "__main__":
    main()
