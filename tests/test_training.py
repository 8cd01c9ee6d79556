"""Training cost worked out by hand: backward MACs, saved tensors, gradients, optimizer
state and the peak, on small specs whose every number is a closed form written here."""

from __future__ import annotations

from fractions import Fraction

import pytest

import cnncost
from cnncost.build import build
from cnncost.errors import CnnCostError
from cnncost.ops import OPS
from cnncost.report import analyze_graph
from cnncost.spec import loads_spec
from cnncost.training import TrainOptions, analyze_training, matches

# conv a (3→8, 3×3, pad 1) → bn → relu (in place) → maxpool 2 → conv b (8→16, 3×3, pad 1)
# → global average → flatten → dropout → fc (16→10)
SPEC = """
name: small
input: [3, {h}, {w}]
layers:
  a: {{op: conv2d, out: 8, kernel: 3, padding: 1, bias: false}}
  bn: {{op: batchnorm}}
  relu: {{op: relu}}
  pool: {{op: maxpool, kernel: 2}}
  b: {{op: conv2d, out: 16, kernel: 3, padding: 1}}
  gap: {{op: global_avgpool}}
  flat: {{op: flatten}}
  drop: {{op: dropout, p: 0.5}}
  fc: {{op: linear, out: 10}}
"""


def _training(h: int, w: int, batch: int = 2, **options):
    graph = build(loads_spec(SPEC.format(h=h, w=w), "small.yaml"), batch=batch)
    report = analyze_graph(graph)
    return report, analyze_training(graph, report, TrainOptions(**options))


def test_every_op_declares_its_saved_tensors_and_backward_macs():
    for name, op in OPS.items():
        assert op.saves is not None, name
        assert op.backward is not None, name
        assert op.autocast in ("half", "fp32", "promote", "same"), name
        assert op.autocast_cpu in (None, "half", "fp32", "promote", "same"), name


@pytest.mark.parametrize(("h", "w"), [(8, 8), (193, 257), (31, 17)])
def test_small_net_by_hand(h, w):
    n = 2
    ph, pw = h // 2, w // 2
    macs_a = n * 8 * h * w * 27
    macs_b = n * 16 * ph * pw * 72
    macs_fc = n * 10 * 16
    _, t = _training(h, w, batch=n, optimizer="sgd")
    layers = t.by_name
    # conv a reads the image, which needs no gradient: weight gradient only
    assert layers["a"].backward_input_macs == 0
    assert layers["a"].backward_weight_macs == macs_a
    assert layers["b"].backward_input_macs == layers["b"].backward_weight_macs == macs_b
    assert layers["fc"].backward_input_macs == layers["fc"].backward_weight_macs == macs_fc
    assert t.totals.backward_input_macs == macs_b + macs_fc
    assert t.totals.backward_weight_macs == macs_a + macs_b + macs_fc
    assert t.totals.backward_macs == macs_a + 2 * macs_b + 2 * macs_fc
    # saved, fp32 (4 bytes): a keeps the image; bn its input (a's output) and 2·8 fp32
    # statistics; the in-place relu its output (bn's storage), which maxpool also keeps,
    # with int64 indices; b keeps the pooled map; global average (a mean) nothing; the
    # dropout mask (1 byte on CUDA) and fc its input (dropout's new output)
    image, a_out, pooled = n * 3 * h * w, n * 8 * h * w, n * 8 * ph * pw
    assert layers["a"].saved_activation_bytes == 4 * image
    assert layers["bn"].saved_activation_bytes == 4 * a_out + 4 * 16
    assert layers["relu"].saved_activation_bytes == 4 * a_out
    assert layers["pool"].saved_activation_bytes == 8 * pooled
    assert layers["b"].saved_activation_bytes == 4 * pooled
    assert layers["gap"].saved_activation_bytes == 0
    assert layers["drop"].saved_activation_bytes == 1 * n * 16
    assert layers["fc"].saved_activation_bytes == 4 * n * 16
    saved = 4 * image + 4 * a_out + 64 + 4 * a_out + 8 * pooled + 4 * pooled + n * 16 + 4 * n * 16
    assert t.totals.saved_activation_bytes == saved
    # the CPU's dropout keeps its mask in the activation type
    _, cpu = _training(h, w, batch=n, optimizer="sgd", device="cpu")
    assert cpu.totals.saved_activation_bytes == saved + 3 * n * 16


def test_optimizer_state_and_peak_items():
    params = 8 * 27 + (8 + 8) + (16 * 72 + 16) + (16 * 10 + 10)
    buffers = 2 * 8 + 1
    for optimizer, states in (("sgd", 0), ("momentum", 1), ("adam", 2), ("adamw", 2)):
        _, t = _training(8, 8, optimizer=optimizer)
        assert t.totals.trainable_params == params
        assert t.totals.gradient_bytes == 4 * params
        assert t.totals.optimizer_bytes == states * 4 * params
        assert t.totals.weight_bytes == 4 * (params + buffers)
        assert t.totals.train_peak_bytes == (
            t.totals.weight_bytes
            + t.totals.gradient_bytes
            + t.totals.optimizer_bytes
            + t.totals.saved_activation_bytes
            + t.totals.transient_bytes
        )


def test_largest_transient_is_an_output_and_input_gradient_pair():
    # bn at 8×8, batch 2: its output gradient and its input gradient, 2·8·8·8 each, fp32
    _, t = _training(8, 8)
    assert t.totals.transient_bytes == 2 * 4 * (2 * 8 * 8 * 8)


def test_freezing_below_stops_backward_and_saving():
    n, h, w = 2, 12, 12
    _, t = _training(h, w, batch=n, trainable=("fc",))
    layers = t.by_name
    assert t.totals.trainable_params == 16 * 10 + 10
    assert t.totals.frozen_params == 8 * 27 + 16 + 16 * 72 + 16
    # nothing below fc needs a gradient: no backward, nothing saved there
    for name in ("a", "bn", "relu", "pool", "b", "gap", "drop"):
        assert layers[name].backward_macs == 0, name
        assert layers[name].saved_activation_bytes == 0, name
    assert layers["fc"].backward_input_macs == 0  # its input needs no gradient
    assert layers["fc"].backward_weight_macs == n * 160
    assert t.totals.saved_activation_bytes == 4 * n * 16  # fc keeps its input
    assert t.totals.gradient_bytes == 4 * 170


def test_freeze_is_the_complement_of_trainable():
    _, frozen = _training(8, 8, freeze=("a", "bn"))
    assert frozen.by_name["a"].backward_weight_macs == 0
    assert frozen.by_name["a"].saved_activation_bytes == 0  # no gradient reaches a
    # b is trained, but nothing below it is: no input gradient
    assert frozen.by_name["b"].backward_input_macs == 0
    assert frozen.by_name["b"].backward_weight_macs == 2 * 16 * 4 * 4 * 72
    assert frozen.totals.frozen_params == 8 * 27 + 16


def test_a_pattern_matches_a_layer_and_everything_under_it():
    assert matches("layer4.0.conv1", ["layer4"])
    assert matches("layer4", ["layer4"])
    assert not matches("layer40.conv", ["layer4"])
    assert matches("layer3.1.bn2", ["layer[34]"])
    assert matches("features.12", ["features.1*"])
    assert not matches("fc", ["layer*"])


def test_a_pattern_matching_nothing_is_an_error():
    with pytest.raises(CnnCostError, match="'layer9' matches no layer"):
        _training(8, 8, trainable=("layer9",))
    with pytest.raises(CnnCostError, match="unknown optimizer"):
        _training(8, 8, optimizer="lion")


def _resnet50_layer4_params() -> int:
    """torchvision's resnet50 layer4 by hand: three bottlenecks of 512 planes, ×4 out."""

    def bn(c):
        return 2 * c

    first = 1024 * 512 + bn(512) + 512 * 512 * 9 + bn(512) + 512 * 2048 + bn(2048)
    first += 1024 * 2048 + bn(2048)  # the projection shortcut
    other = 2048 * 512 + bn(512) + 512 * 512 * 9 + bn(512) + 512 * 2048 + bn(2048)
    return first + 2 * other


def test_resnet50_fine_tuning_layer4_and_fc():
    graph = cnncost.build_graph("resnet50", batch=64)
    report = analyze_graph(graph)
    t = analyze_training(graph, report, TrainOptions(trainable=("layer4", "fc")))
    trainable = _resnet50_layer4_params() + 2048 * 1000 + 1000
    assert t.totals.trainable_params == trainable
    assert t.totals.frozen_params == 25_557_032 - trainable  # torchvision: 25,557,032
    assert t.totals.optimizer_bytes == 2 * 4 * trainable
    # layer4.0.conv1 and the projection read layer3's output, which needs no gradient
    layers = t.by_name
    assert layers["layer4.0.conv1"].backward_input_macs == 0
    assert layers["layer4.0.downsample.conv"].backward_input_macs == 0
    assert layers["layer4.0.conv2"].backward_input_macs > 0
    below = [r.name for r in report.layers][
        : [r.name for r in report.layers].index("layer4.0.conv1")
    ]
    assert len(below) > 100
    assert all(layers[name].backward_macs == 0 for name in below)
    assert all(layers[name].saved_activation_bytes == 0 for name in below)


def test_auxiliary_heads_enter_the_training_figures():
    graph = cnncost.build_graph("googlenet", batch=2)
    report = analyze_graph(graph)
    t = analyze_training(graph, report, TrainOptions())
    aux = [r for r in report.layers if r.train_only]
    assert aux
    assert t.totals.trainable_params == report.totals.train_params > report.totals.params
    assert sum(t.by_name[r.name].backward_weight_macs for r in aux) == sum(r.macs for r in aux)
    assert all(t.by_name[r.name].saved_activation_bytes >= 0 for r in aux)
    assert sum(t.by_name[r.name].saved_activation_bytes for r in aux) > 0


def test_stochastic_depth_weights_by_survival_exactly():
    spec = """
    name: sd
    input: [4, 9, 9]
    layers:
      stem: {op: conv2d, out: 4, kernel: 1, bias: false}
      block: {op: conv2d, out: 4, kernel: 3, padding: 1, bias: false, survival: 0.7}
      head: {op: conv2d, out: 4, kernel: 1, bias: false, from: block}
    """
    graph = build(loads_spec(spec, "sd.yaml"), batch=3)
    t = analyze_training(graph, analyze_graph(graph), TrainOptions())
    stem, block, head = 3 * 4 * 81 * 4, 3 * 4 * 81 * 36, 3 * 4 * 81 * 4
    expected = stem + Fraction(7, 10) * 2 * block + 2 * head
    assert t.totals.backward_macs == round(expected)
    saved = 4 * 3 * 4 * 81
    # stem keeps the image (always); block keeps stem's output (survival 0.7) and head
    # keeps block's output: when the block is dropped it is stem's, saved anyway. The
    # analysis weights a storage by its likeliest saver: head always runs.
    assert t.totals.saved_activation_bytes == round(saved + Fraction(7, 10) * saved + saved)


def test_amp_keeps_master_weights_in_fp32_and_activations_in_half():
    n, h, w = 2, 8, 8
    _, fp32 = _training(h, w, batch=n)
    _, amp = _training(h, w, batch=n, amp=True)
    assert amp.totals.gradient_bytes == fp32.totals.gradient_bytes
    assert amp.totals.optimizer_bytes == fp32.totals.optimizer_bytes
    layers = amp.by_name
    # conv a: autocast casts the fp32 image to half (its own copy) and the weights
    assert layers["a"].saved_activation_bytes == 2 * n * 3 * h * w + 2 * 8 * 27
    # bn runs in its input's type (half); its statistics stay fp32
    assert layers["bn"].saved_activation_bytes == 2 * n * 8 * h * w + 4 * 16


def test_every_op_is_in_the_training_docs():
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "training.md").read_text(encoding="utf-8")
    table = [line for line in text.splitlines() if line.startswith("| `")]
    for name in OPS:
        assert any(f"`{name}`" in line for line in table), name
