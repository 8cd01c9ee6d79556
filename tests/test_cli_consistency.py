"""The commands agree with each other and work where the user is: one layer count, one
dtype rule, clean JSON numbers, a built-in written out as a spec, suggestions for typos."""

from __future__ import annotations

import json
import re

import pytest

import cnncost
from cnncost.cli.options import DTYPES
from cnncost.hardware import hardware_table


def test_layer_count_leaves_out_the_input_as_verify_does(run):
    out = run("resnet50")[1]
    report = cnncost.analyze("resnet50")
    # the JSON lists the input row and every layer; verify checks each layer but the input
    layers = [layer for layer in report.layers if layer.op != "input"]
    line = next(line for line in out.splitlines() if line.strip().startswith("layers"))
    assert int(line.split()[1].replace(",", "")) == len(layers) == len(report.layers) - 1
    # ResNet-50: 53 convolutions + 53 batch norms + ... ; weighted ones = 53 conv + 1 fc + 53 bn
    assert f"{53 + 1 + 53} with weights" in line


@pytest.mark.parametrize("command", [["show", "resnet18"], ["roofline", "resnet18"]])
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_is_accepted_by_show_and_roofline(run, command, dtype):
    args = [*command, "--dtype", dtype]
    if command[0] == "roofline":
        args += ["--hardware", "h100-sxm"]  # its datasheet gives every one of these peaks
    code, _, err = run(*args)
    assert code == 0, err


def test_the_dtype_rule_is_the_device_tables(run):
    table = hardware_table()
    assert set(DTYPES) == set(table["h100-sxm"].peak_flops)
    code, _, err = run("resnet18", "--dtype", "int8")
    assert code == 2 and "int8" in err
    # tf32 computes on fp32 data: it stores 4 bytes per element
    tf32 = json.loads(run("resnet18", "--dtype", "tf32", "--format", "json")[1])
    assert tf32["bytes_per_element"] == 4


def test_json_device_figures_are_the_datasheets_not_binary_noise(run):
    data = json.loads(run("roofline", "resnet50", "--hardware", "h100-sxm", "--format", "json")[1])
    assert data["hardware_basis"] == "datasheet"
    # hardware.yaml: fp32 66.9 TFLOP/s, 3350 GB/s (NVIDIA H100 datasheet, SXM column)
    assert repr(data["peak_flop_per_s"]) == "66900000000000.0"
    assert repr(data["bandwidth_byte_per_s"]) == "3350000000000.0"
    text = run("roofline", "resnet50", "--hardware", "h100-sxm", "--format", "json")[1]
    assert not re.search(r"\d{6,}\.\d*[1-9]", text.split('"layers"')[0])


def test_a_partial_hardware_name_suggests_every_entry_it_fits(run):
    code, _, err = run("roofline", "resnet50", "--hardware", "h100")
    assert code == 2
    for name in (n for n in hardware_table() if "h100" in n):
        assert repr(name) in err


def test_spec_writes_a_builtin_that_counts_the_same(run, tmp_path):
    target = tmp_path / "my_resnet.yaml"
    code, out, _ = run("spec", "resnet50", "-o", str(target))
    assert code == 0 and out == ""
    text = target.read_text()
    assert text.startswith("#")
    assert "\n  resnet50:" in text and "\n  resnet101:" not in text  # one variant entry
    for size in ((3, 224, 224), (3, 193, 257)):
        ours = cnncost.analyze(str(target), input_shape=size)
        builtin = cnncost.analyze("resnet50", input_shape=size)
        assert ours.totals == builtin.totals
        assert [layer.name for layer in ours.layers] == [layer.name for layer in builtin.layers]
    assert run(str(target), "--format", "json")[1].count('"model": "resnet50"') == 1


def test_every_builtin_writes_out_as_a_spec_that_counts_the_same(tmp_path):
    from cnncost.export import builtin_spec_text
    from cnncost.zoo import builtin_models

    for name in builtin_models():
        path = tmp_path / f"{name}.yaml"
        path.write_text(builtin_spec_text(name))
        assert cnncost.analyze(str(path)).totals == cnncost.analyze(name).totals, name


def test_spec_of_an_unknown_model_suggests(run):
    code, out, err = run("spec", "Resnet50")
    assert code == 2 and out == "" and "did you mean 'resnet50'" in err


@pytest.mark.parametrize(("typo", "meant"), [("lsit", "list"), ("comapre", "compare")])
def test_a_mistyped_command_is_named_as_one(run, typo, meant):
    code, out, err = run(typo)
    assert code == 2 and out == ""
    assert f"no command {typo!r}" in err and f"did you mean {meant!r}" in err


@pytest.mark.parametrize(("typo", "meant"), [("VGG16", "vgg16"), ("ResNet50", "resnet50")])
def test_a_miscased_model_gets_its_name(run, typo, meant):
    code, _, err = run(typo)
    assert code == 2 and f"did you mean {meant!r}" in err


@pytest.mark.parametrize(
    "command",
    [[], ["show"], ["compare"], ["list"], ["ops"], ["audit"], ["roofline"], ["spec"]],
)
def test_help_examples_name_no_repository_path(run, command):
    out = run(*command, "--help")[1]
    examples = out.split("Examples:", 1)[1]
    assert "specs/" not in examples and "tests/" not in examples


def test_help_examples_run(run, tmp_path, monkeypatch):
    """Each example of `cnncost show --help` that reads no user file runs as printed."""
    monkeypatch.chdir(tmp_path)
    out = run("show", "--help")[1].split("Examples:", 1)[1]
    ran = 0
    for line in out.splitlines():
        args = re.split(r"\s{2,}", line.strip())[0].split()
        if args[:1] != ["cnncost"] or any(a.endswith(".yaml") and "-o" not in args for a in args):
            continue
        code, _, err = run(*args[1:])
        assert code == 0, (line, err)
        ran += 1
    assert ran >= 4
