"""--train on show and compare: the documented fields in every format, and usage errors."""

from __future__ import annotations

import csv
import io
import json

TRAIN_TOTALS = (
    "trainable_params",
    "frozen_params",
    "backward_macs",
    "backward_input_macs",
    "backward_weight_macs",
    "saved_activation_bytes",
    "gradient_bytes",
    "optimizer_bytes",
    "train_peak_bytes",
    "weight_bytes",
    "transient_bytes",
    "inference_weight_bytes",
    "inference_activation_bytes",
    "inference_peak_bytes",
)
ARGS = ("resnet18", "--train", "--batch", "4", "--input", "3x97x97")


def _json(run, *args):
    code, out, err = run("show", *ARGS, *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_json_carries_the_training_totals_as_exact_integers(run):
    data = _json(run)
    totals = data["totals"]
    for key in TRAIN_TOTALS:
        assert isinstance(totals[key], int) and not isinstance(totals[key], bool), key
        assert key in data["units"], key
    assert totals["backward_macs"] == totals["backward_input_macs"] + totals["backward_weight_macs"]
    assert totals["trainable_params"] == totals["params"]  # all trainable by default
    assert totals["optimizer_bytes"] == 2 * totals["gradient_bytes"]  # adam, the default
    parts = ("weight_bytes", "gradient_bytes", "optimizer_bytes", "saved_activation_bytes")
    assert totals["train_peak_bytes"] == sum(totals[p] for p in parts) + totals["transient_bytes"]
    layer = next(row for row in data["layers"] if row["name"] == "fc")
    assert layer["trainable"] is True
    assert layer["backward_input_macs"] == layer["backward_weight_macs"] == layer["macs"]
    assert data["training"]["optimizer"] == "adam"
    assert "allocator workspace" in data["training"]["peak_excludes"]
    # layer sums are the totals when nothing is stochastic
    for key in ("backward_input_macs", "backward_weight_macs", "saved_activation_bytes"):
        assert sum(row[key] for row in data["layers"]) == totals[key]


def test_trainable_and_freeze_and_optimizer(run):
    full = _json(run, "--optimizer", "sgd")["totals"]
    tuned = _json(run, "--optimizer", "momentum", "--trainable", "layer4,fc")["totals"]
    frozen = _json(run, "--optimizer", "momentum", "--freeze", "conv1,bn1,layer1,layer2,layer3")
    assert full["optimizer_bytes"] == 0
    assert tuned["optimizer_bytes"] == tuned["gradient_bytes"] == 4 * tuned["trainable_params"]
    assert tuned["trainable_params"] + tuned["frozen_params"] == full["trainable_params"]
    assert frozen["totals"]["trainable_params"] == tuned["trainable_params"]
    assert tuned["backward_macs"] < full["backward_macs"]
    assert tuned["saved_activation_bytes"] < full["saved_activation_bytes"]


def test_amp_halves_activations_not_master_weights(run):
    fp32 = _json(run)["totals"]
    amp = _json(run, "--amp")["totals"]
    assert amp["gradient_bytes"] == fp32["gradient_bytes"]
    assert amp["optimizer_bytes"] == fp32["optimizer_bytes"]
    assert amp["weight_bytes"] == fp32["weight_bytes"]
    # autocast also keeps a half copy of every conv/linear weight for backward: 2 bytes
    # per weight, which outweighs the halved activations at batch 4 of 97×97 ...
    weights = sum(r["weights"] for r in _json(run)["layers"] if r["op"] in ("conv2d", "linear"))
    assert amp["saved_activation_bytes"] > 2 * weights
    # ... but not at batch 64
    args = ("show", "resnet18", "--train", "--batch", "64", "--format", "json")
    big = json.loads(run(*args)[1])["totals"]
    big_amp = json.loads(run(*args, "--amp")[1])["totals"]
    assert big_amp["saved_activation_bytes"] < 0.6 * big["saved_activation_bytes"]
    assert _json(run, "--amp")["training"]["amp"] is True


def test_csv_markdown_table_and_summary(run):
    code, out, _ = run("show", *ARGS, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    layers, total = rows[:-1], rows[-1]
    assert total["name"] == "TOTAL"
    assert sum(int(r["backward_weight_macs"]) for r in layers) == int(total["backward_weight_macs"])
    code, out, _ = run("show", *ARGS, "--format", "markdown")
    assert code == 0 and "Bwd weight MACs" in out and "Saved (bytes)" in out
    code, out, _ = run("show", *ARGS, "--table")
    assert code == 0 and "Bwd input MACs" in out and "allocator workspace" in out
    code, out, _ = run("show", *ARGS)
    assert code == 0
    for label in ("backward MACs", "train peak", "optimizer", "inference peak", "transient"):
        assert label in out
    assert "allocator workspace (cuDNN/cuBLAS) and cached free blocks are excluded" in out


def test_compare_train(run):
    code, out, _ = run(
        "compare", "resnet18", "resnet34", "--train", "--batch", "2", "--format", "json"
    )
    assert code == 0
    models = json.loads(out)["models"]
    assert all(isinstance(m["totals"]["train_peak_bytes"], int) for m in models)
    r18, r34 = (m["totals"] for m in models)
    assert r34["backward_macs"] > r18["backward_macs"]
    for fmt in ("table", "csv", "markdown"):
        code, out, _ = run("compare", "resnet18", "resnet34", "--train", "--format", fmt)
        assert code == 0 and ("train_peak_bytes" in out or "Training peak" in out)


def test_usage_errors_are_one_line_exit_2(run):
    code, _, err = run("show", "resnet18", "--amp")
    assert code == 2 and "need --train" in err
    code, _, err = run("show", "resnet18", "--train", "--trainable", "layer9")
    assert code == 2 and "'layer9' matches no layer" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run("show", "resnet18", "--train", "--optimizer", "lion")
    assert code == 2


def test_a_training_branch_that_does_not_fit_refuses_train_in_one_line(run, tmp_path):
    from test_training_branches import SMALL_AUX

    spec = tmp_path / "aux.yaml"
    spec.write_text(SMALL_AUX, encoding="utf-8")
    code, out, err = run("show", str(spec), "--input", "3x16x16", "--train")
    assert code == 2 and out == ""
    assert "no training figures: the training-only branch 'aux'" in err
    assert len(err.strip().splitlines()) == 1
    code, _, _ = run("show", str(spec), "--input", "3x16x16")
    assert code == 0  # inference still counts


def test_tf32_trains_on_fp32_storage_as_show_counts_it(run):
    """tf32 computes on fp32 data (the one dtype rule): --train accepts it and counts
    exactly what fp32 counts."""
    tf32 = _json(run, "--dtype", "tf32")
    fp32 = _json(run, "--dtype", "fp32")
    assert tf32["totals"] == fp32["totals"]
    code, _, err = run("compare", "resnet18", "vgg11", "--train", "--dtype", "tf32")
    assert code == 0, err
