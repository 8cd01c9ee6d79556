"""The roofline estimate, checked against sums done by hand on a one-layer network."""

from __future__ import annotations

import json

import pytest

from cnncost.build import build
from cnncost.hardware import hardware_table, pick_hardware
from cnncost.report import analyze_graph
from cnncost.roofline import roofline
from cnncost.spec import loads_spec

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


def test_backward_is_three_forwards(slow):
    hw, _ = slow
    fwd = roofline(_report(), hw, "fp32")
    train = roofline(_report(), hw, "fp32", backward=True)
    assert train.flops == 3 * fwd.flops
    assert train.predicted_s == pytest.approx(3 * fwd.predicted_s)


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
