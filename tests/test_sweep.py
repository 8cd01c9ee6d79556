"""Sweeps: every point equals the single run (`cnncost.analyze` at that size), whether the
array propagation or the scalar path counted it; growth exponents against closed forms."""

from __future__ import annotations

import json
import random
import textwrap

import pytest

import cnncost
from cnncost import sweep
from cnncost.errors import CnnCostError
from cnncost.ops import public_ops
from cnncost.zoo import builtin_models


def single(model: str, shape: tuple[int, ...]):
    """What `cnncost MODEL --input` gives: the totals, or the error line."""
    try:
        t = cnncost.analyze(model, input_shape=shape).totals
    except CnnCostError as exc:
        return str(exc)
    return (t.params, t.macs, t.activations)


def got(point: sweep.Point):
    return point.error if point.error else (point.params, point.macs, point.activations)


def check_all(model: str, shapes: list[tuple[int, ...]]) -> sweep.Sweep:
    result = sweep.run(model, inputs=shapes)
    assert [p.input for p in result.points] == shapes
    for point in result.points:
        assert got(point) == single(model, point.input), (model, point.input)
    return result


# A sample of the zoo drawn afresh from a fixed seed: every family, sizes odd and even,
# square and not, small enough that some models cannot run.
_RNG = random.Random(12)
_MODELS = sorted(builtin_models())
# with every op the zoo uses among them
ALWAYS = {"googlenet", "vit_b_16", "swin_t", "mobilenet_v2", "shufflenet_v2_x0_5"}
ALWAYS |= {
    "shufflenet_v1_x1_0_g2",
    "convnext_tiny",
    "deform_resnet101",
    "alexnet_2012",
    "efficientnet_b0",
}
ZOO_SAMPLE = sorted(set(_RNG.sample(_MODELS, 12)) | ALWAYS)


@pytest.mark.parametrize("model", ZOO_SAMPLE)
def test_random_points_across_the_zoo_equal_the_single_run(model):
    rng = random.Random(model)
    shapes = [(3, r, r) for r in (193, 257, 320, rng.randint(8, 64), rng.randint(65, 400))]
    shapes += [(3, rng.randint(16, 300), rng.randint(16, 300)) for _ in range(2)]
    check_all(model, shapes)


SYNTHETIC = """\
    # Ceil-mode pooling, padding, windows that collapse at small sizes, branches whose
    # sizes disagree at odd sizes (add, concat and multiply then fail), and the ops the
    # zoo does not use.
    input: [4, 32, 32]
    layers:
      a: {op: conv2d, out: 8, kernel: 3, stride: 2, padding: 1}
      e: {op: conv2d, out: 8, kernel: 1}
      b: {op: maxpool, kernel: 3, stride: 2, ceil_mode: true, from: input}
      d: {op: conv2d, out: 8, kernel: 5, dilation: 2, padding: 4}
      sum: {op: add, from: [d, e]}
      cat: {op: concat, from: [sum, e]}
      c: {op: avgpool, kernel: 3, stride: 2, padding: 1, ceil_mode: true}
      big: {op: conv2d, out: 8, kernel: 5}
      act1: {op: elu}
      act2: {op: hardswish}
      act3: {op: leaky_relu}
      act4: {op: tanh}
      up: {op: conv_transpose2d, out: 8, kernel: 3, stride: 2, padding: 1, output_padding: 1}
      up2: {op: upsample, scale: [2, 3], mode: bilinear}
      up3: {op: upsample, size: [9, 7]}
      same: {op: identity}
      gate_pool: {op: global_maxpool}
      gate: {op: hardsigmoid}
      scaled: {op: multiply, from: [same, gate]}
      pool: {op: adaptive_avgpool, output: 3}
      flat: {op: flatten}
      fc: {op: linear, out: 10}
    """


@pytest.fixture
def synthetic(tmp_path):
    path = tmp_path / "synthetic.yaml"
    path.write_text(textwrap.dedent(SYNTHETIC), encoding="utf-8")
    return str(path)


def test_ceil_mode_padding_and_collapsing_windows(synthetic):
    shapes = [(4, s, s) for s in range(1, 40)] + [(4, 41, 17), (4, 17, 41), (4, 255, 255)]
    result = check_all(synthetic, shapes)
    errors = [p for p in result.points if p.error]
    assert any("collapses to zero" in p.error for p in errors)
    assert any("equal shapes" in p.error for p in errors)
    # the array path counted every point that runs; the failing ones went one by one
    assert result.vectorised == sum(1 for p in result.points if not p.error) > 10


def test_every_op_has_a_vector_shape_rule_and_the_tests_run_it(synthetic):
    assert [n for n, op in public_ops().items() if op.vshape is None] == []
    covered = {n.op.name for n in cnncost.build_graph(synthetic).nodes}
    for model in ZOO_SAMPLE:
        covered |= {n.op.name for n in cnncost.build_graph(model).nodes}
    assert set(public_ops()) <= covered


STRUCTURE = """\
    # The layers depend on the input size: a condition and a repeat read the size of the
    # stem's output, which is the same for 32 input sizes in a row.
    input: [3, 64, 64]
    blocks:
      tail:                # inside a block, in_height and in_width are its input's
        layers:
          extra: {if: in_height > 5, op: conv2d, out: 8, kernel: 3, padding: 1}
          more:
            repeat: in_width // 4
            op: conv2d
            out: 8
            kernel: 3
            padding: 1
    layers:
      stem: {op: conv2d, out: 8, kernel: 32, stride: 32}
      tail: {block: tail}
      pool: {op: global_avgpool}
    """


def test_structure_that_depends_on_the_size_falls_back_to_the_single_run(tmp_path):
    path = tmp_path / "structure.yaml"
    path.write_text(textwrap.dedent(STRUCTURE), encoding="utf-8")
    shapes = [(3, s, s) for s in range(64, 400, 4)] + [(3, 64, 200), (3, 200, 64)]
    result = check_all(str(path), shapes)
    # sizes group by the stem's output size (11 groups), each propagated at once from a
    # template of its own; only the two odd shapes may be left to go one by one
    assert result.scalar <= 2 and result.vectorised >= len(shapes) - 2


def test_a_structure_per_size_goes_one_by_one(tmp_path):
    path = tmp_path / "per_size.yaml"
    path.write_text(
        "input: [3, 64, 64]\nlayers:\n"
        "  c: {op: conv2d, out: 4, kernel: 3, padding: 1, repeat: in_width}\n"
        "  p: {op: global_avgpool}\n"
    )
    result = check_all(str(path), [(3, 40, w) for w in (3, 4, 5, 6, 7)])
    # the template alone has its structure: the others go one by one, not pass by pass
    assert (result.vectorised, result.scalar) == (1, 4)


def test_totals_beyond_int64_are_exact(tmp_path):
    # 4096 outputs · 27 taps · 10⁷·10⁷ positions ≈ 1.1·10¹⁹ MACs > 2⁶³ (9.2·10¹⁸).
    path = tmp_path / "huge.yaml"
    path.write_text("input: [3, 8, 8]\nlayers:\n  c: {op: conv2d, out: 4096, kernel: 3}\n")
    side = 10**7
    result = sweep.run(str(path), inputs=[(3, side, side), (3, side + 3, side + 3)])
    for point in result.points:
        h = point.input[1] - 2
        assert point.macs == 4096 * 27 * h * h
        assert point.macs > 2**63
        assert got(point) == single(str(path), point.input)


def test_batch_and_settings_are_exact():
    result = sweep.run("mobilenet_v2", inputs=[(3, 160, 160)], batches=[1, 3, 64])
    one = result.points[0]
    for point in result.points:
        t = cnncost.analyze("mobilenet_v2", input_shape=(3, 160, 160), batch=point.batch).totals
        assert (point.params, point.macs, point.activations) == (t.params, t.macs, t.activations)
        assert point.macs == one.macs * point.batch
    assert result.growth["batch"]["macs"] == pytest.approx(1.0)
    assert result.growth["batch"]["params"] == pytest.approx(0.0, abs=1e-9)


def test_a_spec_parameter_sweep_equals_building_with_that_argument(tmp_path):
    path = tmp_path / "width.yaml"
    path.write_text(
        "input: [3, 32, 32]\nparams: {width: 8}\nlayers:\n"
        "  a: {op: conv2d, out: width, kernel: 3, padding: 1}\n"
        "  b: {op: conv2d, out: width, kernel: 3, padding: 1}\n"
    )
    result = sweep.run(str(path), sets={"width": [8, 16, 32, 64]})
    for point in result.points:
        w = point.settings["width"]
        # closed form: conv 3→w and w→w, 3×3 same padding, 32×32 positions, with biases
        assert point.params == 27 * w + w + 9 * w * w + w
        assert point.macs == 1024 * (27 * w + 9 * w * w)
    # MACs = 1024·(27w + 9w²): between 1 and 2, near 2 for wide layers
    assert 1.5 < result.growth["width"]["macs"] < 2.0


def test_growth_exponent_of_a_same_padded_conv_is_two(tmp_path):
    path = tmp_path / "conv.yaml"
    path.write_text("input: [3, 8, 8]\nlayers:\n  c: {op: conv2d, out: 16, kernel: 3, padding: 1}")
    result = sweep.run(str(path), inputs=[(3, s, s) for s in (17, 64, 193, 320)])
    assert result.growth["res"]["macs"] == pytest.approx(2.0, abs=1e-9)
    assert result.growth["res"]["params"] == pytest.approx(0.0, abs=1e-9)


def test_compound_scaling_takes_alpha_beta_gamma_from_the_spec():
    result = sweep.run("efficientnet_b0", phi=[0, 1, 2])
    for point in result.points:
        phi = point.settings["phi"]
        assert point.settings["depth"] == pytest.approx(1.2**phi)
        assert point.settings["width"] == pytest.approx(1.1**phi)
        assert point.input == (3, round(224 * 1.15**phi), round(224 * 1.15**phi))
    base = result.points[0]
    assert got(base) == single("efficientnet_b0", (3, 224, 224))


def test_parse_values_ranges_are_inclusive_and_exact():
    assert sweep.parse_values("64:76:4", "--res") == [64, 68, 72, 76]
    assert sweep.parse_values("0.5:2.0:0.25", "w") == [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]
    assert sweep.parse_values("1,8,64", "--batch", integer=True) == [1, 8, 64]
    with pytest.raises(CnnCostError):
        sweep.parse_values("8:4", "--res")
    with pytest.raises(CnnCostError):
        sweep.parse_values("0.5", "--batch", integer=True)


def test_cli_json_points(run):
    code, out, err = run("sweep", "resnet18", "--res", "193,257", "--batch", "1,2", "--format=json")
    assert code == 0, err
    data = json.loads(out)
    assert data["schema"] == "cnncost.sweep/1"
    assert [(p["input"], p["batch"]) for p in data["points"]] == [
        ([3, 193, 193], 1),
        ([3, 193, 193], 2),
        ([3, 257, 257], 1),
        ([3, 257, 257], 2),
    ]
    for p in data["points"]:
        t = cnncost.analyze("resnet18", input_shape=tuple(p["input"]), batch=p["batch"]).totals
        assert (p["params"], p["macs"], p["flops"], p["activations"]) == (
            t.params,
            t.macs,
            t.flops,
            t.activations,
        )
    assert set(data["growth"]) == {"res", "batch"}


def test_cli_reports_failing_points_and_goes_on(run):
    code, out, _ = run("sweep", "alexnet", "--res", "16,224", "--format", "csv")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("input,batch,params,macs")
    assert lines[1].startswith("3x16x16,1,,,") and "collapses" in lines[1]
    assert lines[2].startswith("3x224x224,1,61100840,")


@pytest.mark.parametrize(
    "args",
    [
        ["sweep", "resnet18", "--res", "224:100"],
        ["sweep", "resnet18", "--set", "nosuch=1,2"],
        ["sweep", "resnet18", "--phi", "0:2"],
        ["sweep", "resnet18", "--res", "224", "--plot", "out.pdf"],
    ],
)
def test_cli_bad_axes_are_one_line_errors(run, args):
    code, _, err = run(*args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_scaling_metrics_of_the_audit(tmp_path):
    from fractions import Fraction

    # α·β²·γ² with the paper's α = 1.2, β = 1.1, γ = 1.15 (Tan & Le 2019, Section 3.3)
    exact = Fraction(12, 10) * Fraction(11, 10) ** 2 * Fraction(115, 100) ** 2
    assert sweep.compound_factor("efficientnet_b0") == exact
    assert round(float(exact), 2) == 1.92
    path = tmp_path / "stack.yaml"
    path.write_text(
        "input: [3, 32, 32]\nparams: {n: 1, w: 8}\nlayers:\n"
        "  c: {op: conv2d, out: w, kernel: 3, padding: 1, bias: false}\n"
        "  d: {op: conv2d, out: w, kernel: 3, padding: 1, bias: false, repeat: n}\n"
    )
    # MACs = 1024·9·(3w + n·w²): the n·w² term is linear in n, exactly
    macs = {n: 1024 * 9 * (3 * 8 + n * 64) for n in (1, 2, 4)}
    k = sweep.growth_exponent(str(path), "n", [1, 2, 4])
    import numpy as np

    expected = np.polyfit(np.log([1, 2, 4]), np.log([macs[n] for n in (1, 2, 4)]), 1)[0]
    assert float(k) == pytest.approx(round(expected, 4))
    assert float(sweep.growth_exponent(str(path), "res", [17, 64, 320])) == pytest.approx(2.0)


@pytest.mark.parametrize("model", ["efficientnet_b0", "swin_t", "resnet50", "densenet121"])
def test_zoo_models_need_no_scalar_path(model):
    # their expressions read only channel and feature counts, which no input size changes
    # (inline layers and error messages built along the way read nothing)
    result = sweep.run(model, inputs=[(3, s, s) for s in (193, 224, 257, 320)])
    assert (result.vectorised, result.scalar) == (4, 0)


def test_a_model_that_takes_only_its_own_size_fails_elsewhere():
    shapes = [(3, 193, 193), (3, 224, 224), (3, 320, 320)]
    result = check_all("vit_b_16", shapes)
    assert [p.error is None for p in result.points] == [False, True, False]


@pytest.mark.parametrize("width", [80, 120, 160])
def test_sweep_table_fits_the_width_and_shows_the_json_numbers(run, width):
    args = ("sweep", "resnet50", "--res", "193,257,320")
    code, out, err = run(*args, "--width", str(width))
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= width
    points = json.loads(run(*args, "--format", "json")[1])["points"]
    for p in points:
        row = next(
            line for line in out.splitlines() if line.startswith("×".join(map(str, p["input"])))
        )
        cells = row.split()
        assert f"{p['params']:,}" in cells and f"{p['macs']:,}" in cells


# --- --train: the training memory of every point (issue 12, item 1) ------------------------


@pytest.mark.parametrize(
    ("model", "axes", "options"),
    [
        ("resnet18", ["--res", "97,193", "--batch", "1,3"], []),
        ("mobilenet_v2", ["--input", "3x160x96", "--set", "width=0.5,1"], ["--amp"]),
        ("resnet50", ["--res", "129"], ["--trainable", "layer4,fc", "--optimizer", "sgd"]),
        ("efficientnet_b0", ["--res", "161"], ["--freeze", "stem,stage2"]),
    ],
)
def test_train_points_equal_show_train_at_that_point(run, tmp_path, model, axes, options):
    """Each point's training figures are the totals `show --train` gives for that input,
    batch, parameter setting and training options."""
    code, out, err = run("sweep", model, *axes, "--train", *options, "--format", "json")
    assert code == 0, err
    points = json.loads(out)["points"]
    assert points
    for p in points:
        target = model
        if "width" in p:  # a --set point: the spec with that argument, as a file
            spec = tmp_path / f"w{p['width']}.yaml"
            assert run("spec", model, "-o", str(spec))[0] == 0
            text = spec.read_text(encoding="utf-8")
            spec.write_text(text.replace("width: 1.0", f"width: {p['width']}"), "utf-8")
            target = str(spec)
        shape = "x".join(map(str, p["input"]))
        shown = run(
            "show",
            target,
            "--input",
            shape,
            "--batch",
            str(p["batch"]),
            "--train",
            *options,
            "--format",
            "json",
        )
        totals = json.loads(shown[1])["totals"]
        for key in ("backward_macs", "saved_activation_bytes", "train_peak_bytes", "macs"):
            assert p[key] == totals[key], (model, p["input"], p["batch"], key)


def test_train_points_by_the_library_equal_the_training_analysis():
    """The library path at φ points, where depth and width change too: each point's
    figures equal analyze_training on the spec built with the point's own settings."""
    from cnncost.build import build
    from cnncost.report import analyze_graph
    from cnncost.training import TrainOptions, analyze_training
    from cnncost.zoo import resolve

    options = TrainOptions(optimizer="momentum")
    result = sweep.run("efficientnet_b0", phi=[0, 1, 2], train=options)
    spec, variant = resolve("efficientnet_b0")
    scaling = sweep.compound_of(spec)
    base = sweep.base_values(spec, variant)
    for p, phi in zip(result.points, (0, 1, 2), strict=True):
        scaled = sweep.with_settings(spec, variant, scaling.settings(base, phi))
        graph = build(scaled, variant, input_shape=p.input, batch=p.batch)
        totals = analyze_training(graph, analyze_graph(graph), options).totals
        assert p.training == {k: getattr(totals, k) for k in sweep.TRAIN_FIELDS}
    assert "train_peak_bytes" in result.growth["phi"]


def test_train_where_a_training_branch_does_not_fit_says_why_and_goes_on(run):
    code, out, err = run("sweep", "inception_v3", "--res", "150,299", "--train", "--format", "json")
    assert code == 0, err
    small, native = json.loads(out)["points"]
    assert small["train_peak_bytes"] is None and "AuxLogits" in small["train_error"]
    assert small["macs"] == cnncost.analyze("inception_v3", input_shape=(3, 150, 150)).totals.macs
    assert native["train_peak_bytes"] > 0 and "train_error" not in native
    code, out, _ = run("sweep", "inception_v3", "--res", "150,299", "--train", "--width", "0")
    assert code == 0 and "—: no training figures" in out and "AuxLogits" in out


def test_train_options_need_train_and_plain_sweeps_keep_their_fields(run):
    code, _, err = run("sweep", "resnet18", "--res", "97", "--amp")
    assert code == 2 and "need --train" in err
    point = json.loads(run("sweep", "resnet18", "--res", "97", "--format", "json")[1])["points"][0]
    assert "train_peak_bytes" not in point and "train_error" not in point
    header = run("sweep", "resnet18", "--res", "97", "--train", "--format", "csv")[1].split("\n")[0]
    assert header.endswith(
        "backward_macs,saved_activation_bytes,train_peak_bytes,error,train_error"
    )


@pytest.mark.parametrize("width", [80, 120, 160])
def test_sweep_train_table_fits_the_width_and_shows_the_training_peak(run, width):
    args = ("sweep", "resnet50", "--res", "193,257", "--batch", "1,16", "--train")
    code, out, err = run(*args, "--width", str(width))
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= width
    assert "Train peak" in out  # the header may wrap
    points = json.loads(run(*args, "--format", "json")[1])["points"]
    rows = [line.split() for line in out.splitlines() if line.startswith("3×")]
    assert len(rows) == len(points) == 4
    for p, cells in zip(points, rows, strict=True):
        assert f"{p['train_peak_bytes']:,}" in cells  # exact at every width: a number fits
