"""The command line as a user meets it: formats, options, help and exit statuses."""

from __future__ import annotations

import csv
import io
import json

import pytest

import cnncost

VGG16_MACS = 15_470_264_320  # torchvision's 15.47 G; also 2·Σ conv+fc, checked in test_seed001


def test_summary_labels_macs_and_flops(run):
    code, out, err = run("vgg16")
    assert code == 0 and err == ""
    assert "15,470,264,320" in out and "GMACs" in out
    assert "30,940,528,640" in out and "= 2 × MACs" in out
    assert "138,357,544" in out and "138,344,128" in out
    # the slide's 15,237,608 stored elements plus torchvision's 512×7×7 adaptive pool
    assert "15,262,696" in out and "61.05 MB" in out


def test_table_has_every_layer_and_a_total(run):
    code, out, _ = run("vgg16", "--table")
    assert code == 0
    for header in ("Layer", "Op", "Output shape", "Params", "MACs", "Element-wise ops"):
        assert header in out
    report = cnncost.analyze("vgg16")
    for layer in report.layers:
        assert layer.name in out
    total = [line for line in out.splitlines() if line.strip().startswith("Total")]
    assert len(total) == 1 and "138,357,544" in total[0] and "15,470,264,320" in total[0]
    assert "FLOPs = 2 × MACs" in out


def test_json_is_the_documented_contract(run):
    code, out, _ = run("resnet50", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["schema"] == "cnncost.report/1"
    assert data["model"] == "resnet50" and data["batch"] == 1 and data["dtype"] == "fp32"
    totals = data["totals"]
    for key in (
        "params",
        "macs",
        "flops",
        "activations",
        "activation_bytes",
        "buffers",
        "weights",
        "biases",
        "elementwise",
        "param_bytes",
    ):
        assert isinstance(totals[key], int), key
    assert totals["params"] == 25_557_032  # torchvision num_params
    assert totals["flops"] == 2 * totals["macs"]
    for layer in data["layers"]:
        for key in ("name", "op", "output_shape", "params", "macs", "activations", "inputs"):
            assert key in layer
    for key in ("params", "macs", "activations", "elementwise", "buffers"):
        assert sum(layer[key] for layer in data["layers"]) == totals[key]
    assert data["layers"][0]["op"] == "input"
    assert set(data["units"]) >= {"macs", "flops"}


def test_batch_scales_compute_and_memory_not_parameters(run):
    one = json.loads(run("resnet18", "--format", "json")[1])["totals"]
    many = json.loads(run("resnet18", "--format", "json", "--batch", "8")[1])["totals"]
    assert many["params"] == one["params"]
    for key in ("macs", "flops", "elementwise", "activations", "activation_bytes"):
        assert many[key] == 8 * one[key], key


def test_dtype_sets_bytes_per_element(run):
    fp32 = json.loads(run("resnet18", "--format", "json")[1])["totals"]
    bf16 = json.loads(run("resnet18", "--format", "json", "--dtype", "bf16")[1])["totals"]
    assert fp32["activation_bytes"] == 4 * fp32["activations"]
    assert bf16["activation_bytes"] == 2 * bf16["activations"]
    assert bf16["param_bytes"] == 2 * bf16["params"]


def test_input_override_rescales_every_convolution(run):
    """All of VGG's convs keep their map size; at 320×320 each costs (320/224)² as much."""
    small = json.loads(run("vgg16", "--format", "json")[1])["layers"]
    big = json.loads(run("vgg16", "--format", "json", "--input", "3x320x320")[1])["layers"]
    conv_small = sum(layer["macs"] for layer in small if layer["op"] == "conv2d")
    conv_big = sum(layer["macs"] for layer in big if layer["op"] == "conv2d")
    assert conv_big * 224 * 224 == conv_small * 320 * 320
    fc6 = next(layer for layer in big if layer["name"] == "fc6")
    assert fc6["weights"] == 512 * 7 * 7 * 4096  # torchvision's adaptive pool: always 7×7
    paper = json.loads(run("vgg16_paper", "--format", "json", "--input", "3x320x320")[1])
    fc6 = next(layer for layer in paper["layers"] if layer["name"] == "fc6")
    assert fc6["weights"] == 512 * 10 * 10 * 4096  # 320/32 = 10: the map the paper's fc6 sees


def test_csv_rows_add_up_to_the_total_row(run):
    code, out, _ = run("googlenet", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    total = rows[-1]
    assert total["name"] == "TOTAL"
    inference = [r for r in rows[:-1] if r["train_only"] == "false"]
    assert {r["train_only"] for r in rows[:-1]} == {"true", "false"}
    assert rows[1]["output_shape"] == "64x112x112"  # conv1: 7×7 stride 2 on 224×224
    for key in ("params", "macs", "activations"):
        assert sum(int(r[key]) for r in inference) == int(total[key])
    assert int(total["params"]) == 6_624_904  # torchvision GoogLeNet_Weights num_params
    assert int(total["depth"]) == 22  # "22 layers deep" (Szegedy et al., Section 5)


def test_markdown_table(run):
    code, out, _ = run("inception_naive", "--format", "markdown")
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("|")]
    assert lines[0].startswith("| Layer | Op |")
    assert len(lines) == 2 + len(cnncost.analyze("inception_naive").layers) + 1
    assert "854,196,224" in lines[-1]


def test_output_file_holds_what_stdout_would(run, tmp_path):
    target = tmp_path / "r.json"
    code, out, _ = run("resnet18", "--format", "json", "-o", str(target))
    assert code == 0 and out == ""
    assert target.read_text() == run("resnet18", "--format", "json")[1]


def test_json_of_a_large_model_is_written_in_pieces_that_make_one_document(run, tmp_path):
    """show writes JSON as it is encoded, a few thousand layers to a piece: stdout and -o
    must still hold one document, equal to the report (4,801 layers: three pieces)."""
    spec = tmp_path / "long.yaml"
    spec.write_text(
        "name: long\ninput: [2, 5, 7]\nblocks:\n  unit:\n    layers:\n"
        "      conv: {op: conv2d, out: 2, kernel: 3, padding: 1}\n      relu: {op: relu}\n"
        "layers:\n  body: {block: unit, repeat: 2400}\n",
        encoding="utf-8",
    )
    target = tmp_path / "long.json"
    code, out, _ = run(str(spec), "--format", "json")
    assert code == 0
    assert run(str(spec), "--format", "json", "-o", str(target))[0] == 0
    assert target.read_text(encoding="utf-8") == out
    data = json.loads(out)
    report = cnncost.analyze(str(spec))
    assert len(data["layers"]) == len(report.layers) == 4801
    assert data["layers"] == [layer.to_dict() for layer in report.layers]
    assert data["totals"]["macs"] == report.totals.macs == 2400 * 2 * 2 * 9 * 35


def test_compare_shows_ratios(run):
    code, out, _ = run("compare", "inception_naive", "inception_bottleneck")
    assert code == 0
    assert "854,196,224" in out and "271,351,808" in out
    assert f"×{271_351_808 / 854_196_224:.3g}" in out


def test_compare_json(run):
    code, out, _ = run("compare", "resnet50_v1", "resnet50", "--format", "json")
    assert code == 0
    data = json.loads(out)
    v1, v15 = data["models"]
    assert v1["model"] == "resnet50_v1" and v15["model"] == "resnet50"
    assert v15["ratio_to_first"]["macs"] == v15["totals"]["macs"] / v1["totals"]["macs"]
    assert v1["totals"]["params"] == v15["totals"]["params"]


def test_compare_needs_two_models(run):
    code, _, err = run("compare", "vgg16")
    assert code == 2 and "at least two" in err


def test_list_shows_every_builtin_model(run):
    code, out, _ = run("list", "--format", "json")
    assert code == 0
    names = [m["model"] for m in json.loads(out)["models"]]
    for name in (
        "vgg11",
        "vgg13",
        "vgg16",
        "vgg19",
        "googlenet",
        "inception_naive",
        "inception_bottleneck",
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "resnet50_v1",
        "resnet152_v1",
    ):
        assert name in names
    code, out, _ = run("list")
    assert code == 0 and "resnet152_v1" in out and "MACs" in out


def test_ops_lists_and_describes(run):
    code, out, _ = run("ops")
    assert code == 0
    for op in ("conv2d", "linear", "maxpool", "batchnorm", "concat", "channel_shuffle"):
        assert op in out
    assert not any(line.split()[:1] == ["input"] for line in out.splitlines())
    code, out, _ = run("ops", "conv2d")
    assert code == 0 and "groups" in out and "dilation" in out and "MACs" in out
    code, _, err = run("ops", "conv3d")
    assert code == 2 and "unknown op 'conv3d'" in err


@pytest.mark.parametrize("command", [[], ["show"], ["compare"], ["list"], ["ops"]])
def test_every_command_has_help_with_examples(run, command):
    code, out, _ = run(*command, "--help")
    assert code == 0
    assert "Examples:" in out and "cnncost " in out


def test_table_and_another_format_conflict(run):
    code, _, err = run("vgg16", "--table", "--format", "json")
    assert code == 2 and "disagree" in err


def test_version(run):
    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"cnncost {cnncost.__version__}"


def test_output_path_is_checked_before_the_analysis(run, tmp_path, monkeypatch):
    """A mistyped -o directory is refused before any model is built."""

    def no_analysis(*args, **kwargs):
        raise AssertionError("the model was analysed before -o was checked")

    monkeypatch.setattr(cnncost, "analyze", no_analysis)
    missing = tmp_path / "no_such_dir" / "r.json"
    code, out, err = run("resnet18", "--format", "json", "-o", str(missing))
    assert code == 2 and out == ""
    assert err.startswith("cnncost: error: cannot write") and "no such directory" in err
    assert err.count("\n") == 1
