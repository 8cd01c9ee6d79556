"""The roofline estimate, checked against sums done by hand on a one-layer network."""

from __future__ import annotations

import json

import pytest

from cnncost import build_graph
from cnncost.build import build
from cnncost.hardware import hardware_table, pick_hardware
from cnncost.report import analyze_graph
from cnncost.roofline import roofline
from cnncost.spec import loads_spec
from cnncost.training import TrainOptions, analyze_training

TINY = """
name: tiny
input: [3, 8, 8]
batch: 2
layers:
  conv: {op: conv2d, out: 4, kernel: 3, padding: 1, bias: false}
  relu: {op: relu}
  flat: {op: flatten}
"""

# 1 MFLOP/s everywhere and 1000 bytes/s: slow enough that the arithmetic is easy.
SLOW = """
devices:
  slow:
    title: A very slow device
    peak_tflops: {fp32: 0.000001, bf16: 0.000002}
    vector_tflops: 0.000001
    bandwidth_gb_s: 0.000001
"""


@pytest.fixture
def slow(tmp_path):
    path = tmp_path / "slow.yaml"
    path.write_text(SLOW)
    return pick_hardware("slow", hardware_table(str(path)), None), str(path)


def _report(dtype="fp32"):
    return analyze_graph(build(loads_spec(TINY, "tiny.yaml")), dtype)


def test_one_conv_by_hand(slow):
    hw, _ = slow
    rl = roofline(_report(), hw, "fp32")
    conv, relu, flat = rl.layers
    # MACs per sample: 4 outputs × 8×8 positions × 3·3·3 taps = 6,912; batch 2; 2 FLOP each.
    assert conv.flops == 2 * 2 * 6912
    # bytes: input 3·64 + output 4·64 elements per sample, × batch 2, + 108 weights; fp32.
    assert conv.bytes == ((3 * 64 + 4 * 64) * 2 + 108) * 4
    assert conv.compute_s == pytest.approx(27648 / 1e6)
    assert conv.memory_s == pytest.approx(4016 / 1000)
    assert conv.bound == "memory"
    assert conv.predicted_s == pytest.approx(4.016)
    assert conv.intensity == pytest.approx(27648 / 4016)
    # relu: one op per element, in place but it still reads and writes every element.
    assert relu.elementwise == 2 * 256
    assert relu.bytes == (256 + 256) * 2 * 4
    # flatten is a view: nothing moves and nothing is computed.
    assert (flat.bytes, flat.flops, flat.bound, flat.predicted_s) == (0, 0, "free", 0)
    # relu: max(512 ops at 1 MFLOP/s, 4,096 bytes at 1 kB/s) = 4.096 s
    assert rl.predicted_s == pytest.approx(4.016 + 4.096)


def _graph():
    return build(loads_spec(TINY, "tiny.yaml"))


def _step(trainable=None):
    graph = _graph()
    report = analyze_graph(graph, "fp32")
    return report, analyze_training(graph, report, TrainOptions(trainable=trainable))


def test_backward_by_hand(slow):
    """A training step adds each layer's backward as the training analysis counts it."""
    hw, _ = slow
    report, training = _step()
    conv, relu, flat = roofline(report, hw, "fp32", training).layers
    # conv: the image needs no gradient, so only the weight gradient: as many MACs as
    # the forward (6,912 per sample, batch 2).
    assert conv.flops == 2 * 2 * 6912 + 2 * 2 * 6912
    # its backward reads the input it saved (3·64 per sample), the output gradient
    # (4·64) and writes the weight gradient (108); no input gradient, so no weight read.
    assert conv.bytes == ((3 * 64 + 4 * 64) * 2 + 108) * 4 + ((3 * 64 + 4 * 64) * 2 + 108) * 4
    assert conv.elementwise == 0  # no bias, forward or backward
    # relu: the output it saved, the output gradient read, the input gradient written;
    # one backward op per element.
    assert relu.bytes == (256 + 256) * 2 * 4 + (256 + 256 + 256) * 2 * 4
    assert relu.elementwise == 2 * 256 + 2 * 256
    assert relu.flops == 0
    # flatten stays a view: its gradient is the same storage reshaped.
    assert (flat.bytes, flat.flops, flat.bound) == (0, 0, "free")


def test_backward_work_is_the_training_analysis_macs_exactly():
    """roofline --backward's work is 2 × (forward + backward MACs) of `show --train`."""
    hw = pick_hardware("h100-sxm", hardware_table(None), None)
    for model in ("resnet18", "mobilenet_v2", "googlenet"):
        graph = build_graph(model, input_shape=(3, 97, 131), batch=3)
        report = analyze_graph(graph, "fp32")
        training = analyze_training(graph, report, TrainOptions())
        rl = roofline(report, hw, "fp32", training)
        forward = sum(layer.macs for layer in report.layers)  # training branches included
        assert rl.flops == 2 * (forward + training.totals.backward_macs), model
        assert rl.backward and not roofline(report, hw, "fp32").backward


def test_freezing_takes_the_frozen_layers_backward_out(slow):
    """With only `relu` trainable (it has no parameters), nothing needs a gradient: the
    step costs exactly its forward pass."""
    hw, _ = slow
    report, training = _step(trainable=("relu",))
    step = roofline(report, hw, "fp32", training)
    forward = roofline(report, hw, "fp32")
    assert [(a.flops, a.bytes, a.elementwise) for a in step.layers] == [
        (b.flops, b.bytes, b.elementwise) for b in forward.layers
    ]
    assert step.predicted_s == pytest.approx(forward.predicted_s)


def test_half_precision_halves_the_bytes_and_uses_its_own_peak(slow):
    hw, _ = slow
    rl = roofline(_report("bf16"), hw, "bf16")
    assert rl.layers[0].bytes == ((3 * 64 + 4 * 64) * 2 + 108) * 2
    assert rl.layers[0].compute_s == pytest.approx(27648 / 2e6)


def test_a_dtype_the_device_lacks_is_an_error(slow):
    from cnncost.errors import CnnCostError

    hw, _ = slow
    with pytest.raises(CnnCostError, match="no peak for fp16"):
        roofline(_report("fp16"), hw, "fp16")


def test_depthwise_convs_are_memory_bound_on_an_h100():
    """The classic case: a depthwise 3×3 does 9 MACs per output element, far below an
    H100's ridge point (989.4 TFLOP/s ÷ 3.35 TB/s ≈ 295 FLOP/byte in bf16)."""
    import cnncost

    hw = hardware_table()["h100-sxm"]
    rl = roofline(cnncost.analyze("mobilenet_v2", batch=64, dtype="bf16"), hw, "bf16")
    depthwise = [layer for layer in rl.layers if layer.name.endswith("depthwise.conv")]
    assert depthwise and all(layer.bound == "memory" for layer in depthwise)


def test_cli_roofline_json(run, slow):
    _, path = slow
    code, out, err = run(
        "roofline", "resnet18", "--hardware", "slow", "--hardware-file", path, "--format", "json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["schema"] == "cnncost.roofline/1"
    assert data["flops"] == 2 * 1_814_073_344  # torchvision ResNet18 _ops 1.814 G, 2 FLOP/MAC
    assert data["predicted_s"] == pytest.approx(sum(r["predicted_s"] for r in data["layers"]))


def test_cli_roofline_table_labels_units(run):
    code, out, err = run("roofline", "mobilenet_v2", "--hardware", "a100", "--table")
    assert code == 0, err
    assert "FLOP/B" in out and "memory" in out and "FLOPs = 2 × MACs" in out


def test_cli_roofline_backward_follows_show_train_and_its_freezing(run, slow):
    """--backward, --trainable and --freeze mean what they mean for show --train: the
    work is 2 × (forward + backward MACs) of the same command's training totals."""
    _, path = slow
    device = ("--hardware", "slow", "--hardware-file", path)
    for choice in ((), ("--trainable", "layer4,fc"), ("--freeze", "conv1,layer1")):
        code, out, err = run(
            "roofline", "resnet18", *device, "--backward", *choice, "--format", "json"
        )
        assert code == 0, err
        data = json.loads(out)
        shown = json.loads(run("show", "resnet18", "--train", *choice, "--format", "json")[1])
        totals = shown["totals"]
        assert data["pass"] == "forward+backward"
        assert data["flops"] == 2 * (totals["macs"] + totals["backward_macs"]), choice
    code, _, err = run("roofline", "resnet18", *device, "--freeze", "fc")
    assert code == 2 and "--trainable and --freeze need --backward" in err
