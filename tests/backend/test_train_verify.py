"""verify --train: one training step in torch agrees with the analytic training cost, per
layer and in total (backward MACs against FlopCounterMode, saved activations against
saved_tensors_hooks); torch's grouped-conv over-count is exactly its closed form."""

from __future__ import annotations

import dataclasses
import json

import pytest

torch = pytest.importorskip("torch")

import cnncost  # noqa: E402
from cnncost.backend.module import build_module  # noqa: E402
from cnncost.backend.train_verify import verify_training  # noqa: E402
from cnncost.build import build  # noqa: E402
from cnncost.ops import OPS  # noqa: E402
from cnncost.spec import loads_spec  # noqa: E402


def _grouped_excess(graph) -> int:
    """torch 2.13 counts a grouped conv's weight gradient as dense: groups × its MACs,
    N·out·Ho·Wo·kh·kw·C_in, instead of N·out·Ho·Wo·kh·kw·C_in/groups."""
    excess = 0
    for node in graph.nodes:
        groups = node.attrs.get("groups", 1) if node.op.name == "conv2d" else 1
        if groups > 1:
            (c_in, _, _), (out, ho, wo) = node.input_shapes[0], node.shape
            kh, kw = node.attrs["kernel"]
            per_group = graph.batch * out * ho * wo * kh * kw * c_in // groups
            excess += (groups - 1) * per_group
    return excess


CASES = [
    ("resnet50", (3, 64, 64), None),
    ("resnet50", None, ("layer4", "fc")),  # native 224, fine-tuning layer4 and fc
    ("vgg16", (3, 64, 64), None),
    ("densenet121", (3, 97, 97), None),
    ("mobilenet_v2", (3, 97, 97), None),
    ("googlenet", (3, 64, 64), None),  # with its auxiliary heads
    ("vit_b_16", None, None),  # needs 224
]


@pytest.mark.parametrize(("model", "shape", "trainable"), CASES)
def test_a_training_step_agrees_with_torch(model, shape, trainable):
    graph = cnncost.build_graph(model, input_shape=shape, batch=2)
    result = verify_training(graph, trainable=trainable)
    assert result.mismatches == []
    assert result.layers_checked == len(graph.nodes) - 1
    ours, theirs, excess = result.totals["backward_macs"]
    assert excess == _grouped_excess(graph)
    assert ours + excess == theirs
    saved, torch_saved, _ = result.totals["saved_activation_bytes"]
    assert saved == torch_saved > 0
    if trainable:
        t = result.training.totals
        assert t.trainable_params + t.frozen_params == 25_557_032  # torchvision resnet50
        assert result.training.by_name["conv1"].saved_activation_bytes == 0
    if model == "googlenet":
        aux = [n.name for n in graph.nodes if n.train_only]
        assert sum(result.training.by_name[a].backward_macs for a in aux) > 0


@pytest.mark.parametrize(("model", "shape"), [("resnet50", (3, 64, 64)), ("vit_b_32", None)])
def test_a_training_step_under_autocast_agrees_with_torch(model, shape):
    """CPU autocast (bf16): half conv/linear/matmul outputs with their cast copies of inputs
    and weights, fp32 batch-norm statistics; ViT's layer norm meets fp32 tensors."""
    graph = cnncost.build_graph(model, input_shape=shape, batch=2)
    result = verify_training(graph, amp=True)
    assert result.mismatches == []
    saved, torch_saved, _ = result.totals["saved_activation_bytes"]
    assert saved == torch_saved
    # autocast's bf16 copies of the conv/linear weights are saved too (2 bytes each)
    module = build_module(graph)
    weights = sum(
        m.weight.numel()
        for m in module.modules()
        if isinstance(m, torch.nn.Conv2d | torch.nn.Linear)
    )
    assert saved > 2 * weights


def test_stochastic_depth_checks_the_step_where_every_block_runs():
    graph = cnncost.build_graph("resnet110_stochastic_depth", batch=2)
    result = verify_training(graph)
    assert result.mismatches == []
    ours, theirs, _ = result.totals["backward_macs"]
    assert ours == theirs == sum(layer.backward_macs for layer in result.training.layers)
    # the reported totals are expectations over survival: below the every-block step
    assert result.training.totals.backward_macs < ours


def test_depthwise_conv_backward_is_twice_its_forward_not_65_times():
    spec = """
    name: dw
    input: [64, 56, 56]
    layers:
      stem: {op: conv2d, out: 64, kernel: 1, bias: false}
      dw: {op: conv2d, out: 64, kernel: 3, padding: 1, groups: 64, bias: false}
    """
    graph = build(loads_spec(spec, "dw.yaml"), batch=2)
    result = verify_training(graph)
    assert result.ok
    forward = 2 * 64 * 56 * 56 * 9  # N·C·H·W·k² for a depthwise 3×3
    dw = result.training.by_name["dw"]
    assert dw.backward_input_macs == dw.backward_weight_macs == forward
    ours, theirs, excess = result.totals["backward_macs"]
    stem = 2 * 64 * 56 * 56 * 64  # the stem's weight gradient (its input needs none)
    assert theirs - stem == 65 * forward  # torch: 1 (input) + 64 (weight) forwards
    assert ours - stem == 2 * forward
    assert excess == 63 * forward


def test_a_wrong_saved_tensor_rule_is_reported():
    wrong = dataclasses.replace(OPS["relu"], saves=lambda a, i, o, n: ())
    spec = """
    name: r
    input: [3, 9, 9]
    layers:
      c: {op: conv2d, out: 4, kernel: 3}
      r: {op: relu, inplace: false}
      d: {op: conv2d, out: 4, kernel: 3}
    """
    graph = build(loads_spec(spec, "r.yaml"), batch=2)
    nodes = tuple(dataclasses.replace(n, op=wrong) if n.name == "r" else n for n in graph.nodes)
    result = verify_training(dataclasses.replace(graph, nodes=nodes))
    # torch's relu keeps its output (2·4·7·7 fp32); the wrong rule leaves it to d
    mismatches = {(m.layer, m.check): (m.cnncost, m.torch) for m in result.mismatches}
    assert mismatches[("r", "saved_activation_bytes")] == (0, 4 * 2 * 4 * 7 * 7)
    assert mismatches[("d", "saved_activation_bytes")] == (4 * 2 * 4 * 7 * 7, 0)
    assert not result.ok


def test_cli_verify_train(run):
    code, out, _ = run(
        "verify", "resnet18", "--train", "--batch", "2", "--input", "3x33x33", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["ok"] and data["schema"] == "cnncost.verify_train/1"
    args = ("verify", "mobilenet_v1_x0_25", "--train", "--input", "3x32x32")
    code, out, _ = run(*args, "--batch", "2")
    assert code == 0
    assert "pytorch PR #183405" in out
    # batch norm cannot train on one value per channel: one line, exit 2
    code, _, err = run(*args, "--batch", "1")
    assert code == 2
    assert "Expected more than 1 value per channel" in err and len(err.strip().splitlines()) == 1
    code, _, err = run("verify", "resnet18", "--trainable", "fc")
    assert code == 2 and "--train" in err
    code, out, _ = run(*args, "--batch", "2", "--amp", "--format", "json")
    assert code == 0 and json.loads(out)["amp"] is True


UPSAMPLING = """
name: up
input: [4, 13, 9]
layers:
  t1: {op: conv_transpose2d, out: 6, kernel: 3, stride: 2, padding: 1, output_padding: 1}
  t2:
    op: conv_transpose2d
    out: 6
    kernel: [3, 5]
    stride: [3, 2]
    padding: [1, 2]
    groups: 2
    bias: false
  t3: {op: conv_transpose2d, out: 4, kernel: 3, stride: 2, dilation: 2, output_padding: 1}
  n: {op: upsample, scale: [2, 3]}
  b: {op: upsample, size: [101, 77], mode: bilinear, align_corners: true}
  f: {op: upsample, size: [50, 40], mode: bilinear, call: functional}
  c: {op: conv2d, out: 3, kernel: 3, stride: 2}
"""


@pytest.mark.parametrize("shape", [(4, 13, 9), (4, 6, 11), (4, 1, 1)])
@pytest.mark.parametrize("amp", [False, True])
def test_upsampling_ops_agree_with_torch(shape, amp):
    """Transposed convolutions (strided, grouped, dilated, output padding) and nearest and
    bilinear upsampling: forward counts and one training step, exactly as torch."""
    from cnncost.backend.verify import verify

    graph = build(loads_spec(UPSAMPLING, "up.yaml"), input_shape=shape, batch=2)
    assert verify(graph).mismatches == []
    result = verify_training(graph, amp=amp)
    assert result.mismatches == []
    ours, theirs, excess = result.totals["backward_macs"]
    # torch charges the grouped t2's weight gradient as dense: groups × its MACs, which
    # are N · C_in·H·W (its input) · (out/groups) · kh·kw
    c_in, h, w = next(n for n in graph.nodes if n.name == "t2").input_shapes[0]
    assert excess == (2 - 1) * 2 * c_in * h * w * (6 // 2) * 3 * 5
    assert ours + excess == theirs
