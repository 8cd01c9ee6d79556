"""cnncost time: the statistics it reports, the errors it gives, and the GPU path."""

from __future__ import annotations

import json
import statistics

import pytest

torch = pytest.importorskip("torch")

import cnncost  # noqa: E402
from cnncost.backend.timing import Timing, check_device, time_graph  # noqa: E402
from cnncost.errors import CnnCostError  # noqa: E402

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no CUDA device")
TINY = "inception_naive"


def test_statistics_are_medians_and_quartiles():
    t = Timing(
        "m", "cpu", "x", "fp32", 8, False, False, False, 0, [4.0, 1.0, 3.0, 2.0, 100.0], None
    )
    assert t.median_s == 3.0
    assert t.quartiles_s == (2.0, 4.0)
    assert t.images_per_s == 8 / 3.0


def test_cpu_run_reports_what_it_measured():
    calls = []
    t = time_graph(
        cnncost.build_graph(TINY, batch=2),
        runs=3,
        warmup=1,
        per_layer=True,
        progress=lambda done, total, what: calls.append((done, total)),
    )
    assert len(t.runs) == 3 and all(r > 0 for r in t.runs)
    assert min(t.runs) <= t.median_s <= max(t.runs)
    assert t.median_s == statistics.median(t.runs)
    assert t.peak_memory_bytes is None  # not measured on the CPU
    graph = cnncost.build_graph(TINY)
    assert set(t.layer_runs) == {n.name for n in graph.nodes[1:]}
    assert (4, 4) in calls  # warm-up + runs, finished


@pytest.mark.parametrize("dtype", ["bf16", "tf32"])
def test_cpu_dtypes_and_backward(dtype):
    t = time_graph(cnncost.build_graph(TINY), dtype=dtype, backward=True, runs=2, warmup=1)
    assert len(t.runs) == 2
    assert t.backward


def test_channels_last_runs():
    t = time_graph(cnncost.build_graph("resnet18"), channels_last=True, runs=1, warmup=0)
    assert t.channels_last and len(t.runs) == 1


def test_fp32_means_strict_fp32_and_flags_are_restored():
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    time_graph(cnncost.build_graph(TINY), dtype="tf32", runs=1, warmup=0)
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == before


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_asked_for_and_absent_is_one_clear_line(run):
    with pytest.raises(CnnCostError, match="sees no CUDA device"):
        check_device("cuda")
    code, out, err = run("time", TINY, "--device", "cuda")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "--device cpu" in err


def test_cli_time_json(run):
    args = ("time", TINY, "--runs", "2", "--warmup", "1", "--format", "json")
    code, out, err = run(*args, "--hardware", "generic-cpu")
    assert code == 0, err
    data = json.loads(out)
    assert data["schema"] == "cnncost.timing/1"
    assert len(data["runs_s"]) == 2
    assert data["median_s"] == statistics.median(data["runs_s"])
    assert data["images_per_s"] == pytest.approx(1 / data["median_s"])
    assert data["roofline"]["hardware"] == "generic-cpu"
    assert data["roofline"]["hardware_basis"] == "datasheet"
    # seed 001: the naive module's 854M ops, at 2 FLOP each
    assert data["roofline"]["flops"] == 2 * 854_196_224
    assert data["achieved_fraction_of_peak"] == pytest.approx(
        data["roofline"]["flops"] / data["median_s"] / 2.56e12
    )


def test_cli_time_text_shows_prediction_beside_measurement(run):
    code, out, err = run("time", TINY, "--runs", "2", "--warmup", "0", "--layers")
    assert code == 0, err
    for words in (
        "measured",
        "median",
        "images/s",
        "predicted",
        "% of the fp32 peak",
        "Per layer",
        "Measured/pred.",
    ):
        assert words in out


def test_on_the_cpu_the_roofline_is_this_machines_measured(run):
    """Without --hardware, time on the CPU measures this machine's peaks and says so."""
    code, out, err = run("time", TINY, "--runs", "1", "--warmup", "0", "--format", "json")
    assert code == 0, err
    data = json.loads(out)["roofline"]
    assert data["hardware"] == "this-cpu" and data["hardware_basis"] == "measured"
    # a measured peak is a rate this machine reached: at least the model's own rate, which
    # runs the same kinds of kernels, and far below the 16-core AVX-512 placeholder
    achieved = data["flops"] / json.loads(out)["median_s"]
    assert data["peak_flop_per_s"] > achieved / 4
    assert data["bandwidth_byte_per_s"] > 0 and data["vector_flop_per_s"] > 0
    code, out, _ = run("time", TINY, "--runs", "1", "--warmup", "0")
    words = " ".join(out.split())  # as read, whatever the width wrapped
    assert "measured on this machine" in words and "[this-cpu]" in words


def test_one_run_reads_1_run(run):
    code, out, _ = run("time", TINY, "--runs", "1", "--warmup", "0", "--hardware", "generic-cpu")
    words = " ".join(out.split())
    assert code == 0 and "(1 run after 0 warm-up)" in words and "1 runs" not in words
    assert "datasheet" in words


@pytest.mark.parametrize("width", [80, 100, 120, 160])
def test_per_layer_table_fits_and_names_every_layer_whole(run, width):
    args = ("time", TINY, "--runs", "1", "--warmup", "0", "--layers", "--hardware", "generic-cpu")
    code, out, err = run(*args, "--width", str(width))
    assert code == 0, err
    lines = out.splitlines()
    assert all(len(line) <= width for line in lines), max(lines, key=len)
    names = {line.split()[0] for line in lines if line[:1].isalpha()}
    assert {n.name for n in cnncost.build_graph(TINY).nodes[1:]} <= names


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_cuda_timing_measures_memory(dtype):
    t = time_graph(cnncost.build_graph("resnet50", batch=8), device="cuda", dtype=dtype, runs=3)
    assert t.peak_memory_bytes and t.peak_memory_bytes > 0
    assert t.device == "cuda" and t.device_name


@pytest.mark.gpu
@needs_cuda
def test_cuda_backward_and_per_layer():
    t = time_graph(
        cnncost.build_graph("resnet18", batch=4),
        device="cuda",
        backward=True,
        runs=2,
        per_layer=True,
    )
    assert t.layer_runs and all(v >= 0 for v in t.layer_runs.values())


@pytest.mark.parametrize("width", [80, 120, 160])
def test_per_layer_times_on_screen_are_the_jsons(width):
    """One measurement, drawn as text and as JSON: each number of the table reads back."""
    from screen import check_numbers

    from cnncost.hardware import hardware_table
    from cnncost.memory import estimate_memory
    from cnncost.render.layout import Grid, ask, fit
    from cnncost.render.measure import (
        MEASURED_COLUMNS,
        ROOFLINE_COLUMNS,
        ROOFLINE_NOTE,
        roofline_rows,
        timing_json,
        timing_text,
    )
    from cnncost.roofline import roofline

    graph = cnncost.build_graph(TINY)
    t = time_graph(graph, runs=1, warmup=0, per_layer=True)
    rl = roofline(cnncost.analyze(TINY), hardware_table()["generic-cpu"], "fp32")
    memory = estimate_memory(rl.report)
    data = json.loads(timing_json(t, rl, memory))
    fitted = fit(
        Grid(
            "Per layer (forward, each layer timed alone)",
            (*ROOFLINE_COLUMNS, *MEASURED_COLUMNS),
            roofline_rows(rl, t.layer_runs),
            note=ROOFLINE_NOTE,
        ),
        width,
    )
    ask(width)
    try:
        assert fitted.text in timing_text(t, rl, memory)
    finally:
        ask()
    measured = data["layers_median_s"]
    expected = [
        {
            "flops": layer["flops"],
            "bytes": layer["bytes"],
            "predicted": layer["predicted_s"],
            "measured": measured[layer["name"]],
            "ratio": measured[layer["name"]] / layer["predicted_s"],
        }
        for layer in data["roofline"]["layers"]
    ]
    assert check_numbers(fitted, width, expected) >= 3 * len(expected)


def test_cpu_training_step_with_optimizer_and_amp(run):
    t = time_graph(
        cnncost.build_graph("resnet18", batch=2, input_shape=(3, 33, 33)),
        backward=True,
        optimizer="adam",
        amp=True,
        runs=1,
        warmup=1,
    )
    assert t.optimizer == "adam" and t.amp and len(t.runs) == 1
    args = ("resnet18", "--batch", "2", "--input", "3x33x33", "--format", "json")
    code, out, err = run("time", *args, "--backward", "--optimizer", "adam", "--amp", "--runs", "1")
    assert code == 0, err
    timed = json.loads(out)
    code, out, _ = run("show", *args, "--train", "--optimizer", "adam", "--amp")
    # the prediction beside the measurement is the training peak of docs/training.md
    assert timed["predicted_memory_bytes"] == json.loads(out)["totals"]["train_peak_bytes"]
    assert timed["optimizer"] == "adam" and timed["amp"] is True
    code, _, err = run("time", "resnet18", "--optimizer", "adam")
    assert code == 2 and "need --backward" in err


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("amp", [False, True])
def test_cuda_training_peak_is_measured_beside_the_prediction(run, amp):
    args = ["resnet50", "--device", "cuda", "--batch", "32", "--backward", "--optimizer", "adam"]
    code, out, err = run("time", *args, *(["--amp"] if amp else []), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    # both figures reported; their ratio is what docs/training.md's GPU table records
    assert data["peak_memory_bytes"] > 0 and data["predicted_memory_bytes"] > 0
    assert data["optimizer"] == "adam" and data["amp"] is amp
