"""The counting conventions: complete over the ops, exact, and light to import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import cnncost
from cnncost import conventions
from cnncost.ops import public_ops
from cnncost.ops.registry import quantities
from cnncost.report import Layer

ROOT = Path(__file__).resolve().parents[2]
# Built-ins that between them use every public op.
COVERING = (
    "resnet50",
    "mobilenet_v2",
    "densenet121",
    "inception_v3",
    "shufflenet_v2_x1_0",
    "efficientnet_b0",
    "convnext_tiny",
    "vit_b_16",
    "swin_t",
    "alexnet_2012",
    "deform_resnet101",
    "resnet50_dcnv2_c3_c5",
    "xception",
    "se_resnet50",
    "fcn_resnet50",
)
# Attributes for the ops no built-in uses that have required ones (coerced values).
LONE_ATTRS = {"conv_transpose2d": {"out": 4, "kernel": (2, 2), "stride": (2, 2)}}


@pytest.fixture(scope="module")
def reports():
    return [cnncost.analyze(m) for m in COVERING]


def test_every_convention_names_every_op_and_no_other():
    ops = set(public_ops())
    for conv in conventions.conventions().values():
        assert set(conv.formulas) == ops, conv.name


def test_every_op_declares_its_cost():
    for name, op in public_ops().items():
        assert op.cost is not None and op.cost_doc.strip(), name


def _lone_layer(name: str) -> Layer:
    """A layer of an op no built-in uses, on a 8×6×6 input, with the op's defaults."""
    op, ins = public_ops()[name], [(8, 6, 6)]
    attrs = {**op.defaults, **LONE_ATTRS.get(name, {})}
    out = op.shape(attrs, ins)
    cost = op.cost(attrs, ins, out)
    sizes = {**quantities(op, attrs, ins, out, cost), "batch": 1}
    return Layer(
        name, name, ("x",), out, 0, 0, 0, cost.macs, cost.elementwise, 0, 4, quantities=sizes
    )


def test_every_formula_evaluates_to_a_nonnegative_integer_on_every_op(reports):
    used = {layer.op for r in reports for layer in r.layers if layer.inputs}
    lone = [_lone_layer(op) for op in sorted(set(public_ops()) - used)]
    assert {layer.op for layer in lone} <= {
        "identity",
        "hardsigmoid",
        "hardswish",
        "elu",
        "leaky_relu",
        "tanh",
        "global_maxpool",
        "conv_transpose2d",  # tests/peers checks its conventions on small specs instead
    }
    for conv in conventions.conventions().values():
        for layers in [*reports, lone]:
            for op, count in conventions.by_op(layers, conv).items():
                assert isinstance(count, int) and count >= 0, (conv.name, op)


def test_no_arithmetic_ops_really_cost_nothing_and_the_others_do(reports):
    free = conventions.no_arithmetic()
    work: dict[str, int] = {}
    for r in reports:
        for layer in r.layers:
            if layer.inputs and layer.op != "identity":
                work[layer.op] = work.get(layer.op, 0) + layer.macs + layer.elementwise
    assert {op for op, w in work.items() if w == 0} == free - {"identity"}


def test_torch_is_the_macs_column(reports):
    for r in reports:
        assert conventions.total(r, "torch") == r.totals.macs


def test_counts_scale_with_the_batch():
    one, four = cnncost.analyze("googlenet"), cnncost.analyze("googlenet", batch=4)
    for name in conventions.conventions():
        assert conventions.total(four, name) == 4 * conventions.total(one, name)


def test_differences_sum_exactly_to_each_gap(reports):
    names = list(conventions.conventions().values())
    for r in reports:
        result = conventions.reconcile(r, names)
        ref = result["torch"]["macs"]
        for entry in result.values():
            diff = entry["difference"]
            assert sum(diff["by_op"].values()) == diff["macs"] == entry["macs"] - ref


def test_batch_norm_gap_is_a_closed_form():
    """fvcore − torch on ResNet-18 at 224: batch norm 2 per element plus the 512·7·7 global
    pool. The BN elements, written out: the stem (64·112²), 4 BNs a block at 64·56²,
    128·28², 256·14², 512·7², and one downsample BN in each of the last three stages."""
    bn = 64 * 112**2 + sum(4 * c * s * s for c, s in ((64, 56), (128, 28), (256, 14), (512, 7)))
    bn += 128 * 28**2 + 256 * 14**2 + 512 * 7**2
    r = cnncost.analyze("resnet18")
    assert conventions.total(r, "fvcore") - conventions.total(r, "torch") == 2 * bn + 512 * 49


def test_each_convention_lists_what_it_ignores():
    assert "batchnorm" in conventions.get("torch").ignores()
    assert "relu" in conventions.get("thop").ignores()
    assert "relu" not in conventions.get("ptflops").ignores()
    assert "flatten" not in conventions.get("torch").ignores()


def test_unknown_convention_is_one_line_error(run):
    code, out, err = run("reconcile", "resnet18", "--conventions", "torch,fvcor")
    assert code == 2 and out == ""
    assert "unknown convention 'fvcor'" in err and "fvcore" in err


def test_reconcile_text_explains_each_gap(run):
    code, out, err = run("reconcile", "resnet50", "--conventions", "torch,fvcore,thop")
    assert code == 0, err
    assert "fvcore − torch = +22,328,320:" in out
    assert "batchnorm" in out and "+22,227,968" in out
    assert "thop counts 0 for" in out and "relu" in out


def test_reconcile_json_is_the_documented_contract(run):
    code, out, _ = run("reconcile", "resnet18", "--format", "json", "--input", "3x193x193")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "cnncost.reconcile/1" and doc["model"] == "resnet18"
    assert doc["reference"] == "torch" and doc["input_shape"] == [3, 193, 193]
    conv = doc["conventions"]
    assert list(conv) == list(conventions.conventions())
    for entry in conv.values():
        assert entry["macs"] == sum(entry["by_op"].values())
        assert entry["difference"]["macs"] == entry["macs"] - conv["torch"]["macs"]


def test_show_and_compare_carry_convention_totals(run):
    code, out, _ = run("show", "resnet18", "--format", "json", "--convention", "fvcore,thop")
    doc = json.loads(out)
    assert set(doc["conventions"]) == {"fvcore", "thop"}
    assert doc["conventions"]["fvcore"]["macs"] > doc["totals"]["macs"]
    code, out, _ = run("compare", "resnet18", "resnet50", "--format", "json", "--convention", "all")
    doc = json.loads(out)
    assert all(set(m["conventions"]) == set(conventions.conventions()) for m in doc["models"])
    code, out, err = run("show", "resnet18", "--format", "csv", "--convention", "thop")
    assert code == 2 and "--convention" in err


def test_conventions_import_neither_torch_nor_a_peer():
    code = (
        "import io, sys, contextlib\n"
        "from cnncost.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['reconcile', 'vit_b_16', '--format', 'json'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'torchvision', 'fvcore', 'ptflops', 'thop', 'torchinfo', 'numpy')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]", out.stderr


def test_ops_lists_each_conventions_formula(run):
    code, out, _ = run("ops", "batchnorm")
    assert code == 0
    for conv in conventions.conventions().values():
        assert f"{conv.name}: {conv.formulas['batchnorm']}" in out


def test_the_worked_example_in_the_docs_is_what_reconcile_prints(run):
    doc = (ROOT / "docs" / "counting.md").read_text(encoding="utf-8")
    block = doc.split("`cnncost reconcile resnet50 --width 100`", 1)[1].split("```text\n", 1)[1]
    block = block.split("```", 1)[0]
    code, out, _ = run("reconcile", "resnet50", "--width", "100")
    assert code == 0
    for line in block.splitlines():
        assert line.rstrip() in out, line


def test_sweep_carries_each_points_convention_totals(run):
    code, out, err = run(
        "sweep",
        "resnet18",
        "--res",
        "193,224",
        "--batch",
        "1,2",
        "--format",
        "json",
        "--convention",
        "fvcore,thop",
    )
    assert code == 0, err
    points = json.loads(out)["points"]
    for p in points:
        one = cnncost.analyze("resnet18", input_shape=tuple(p["input"]), batch=p["batch"])
        assert p["conventions"] == {c: conventions.total(one, c) for c in ("fvcore", "thop")}
    by_key = {(p["input"][-1], p["batch"]): p["conventions"]["thop"] for p in points}
    assert by_key[(224, 2)] == 2 * by_key[(224, 1)]
    code, _, err = run(
        "sweep", "resnet18", "--res", "224", "--format", "csv", "--convention", "thop"
    )
    assert code == 2 and "--convention" in err


@pytest.mark.parametrize("width", [80, 120, 160])
def test_reconcile_text_fits_the_width_and_shows_the_json_totals(run, width):
    code, out, err = run("reconcile", "resnet50", "--width", str(width))
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= width
    data = json.loads(run("reconcile", "resnet50", "--format", "json")[1])
    for name, entry in data["conventions"].items():
        row = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert f"{entry['macs']:,}" in row.split()
