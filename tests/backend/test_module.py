"""A spec becomes an nn.Module named after its layers, that frees what it no longer needs."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import cnncost  # noqa: E402
from cnncost.backend.module import build_module  # noqa: E402
from cnncost.build import build  # noqa: E402
from cnncost.ops import public_ops  # noqa: E402
from cnncost.spec import loads_spec  # noqa: E402


def _graph(text: str):
    return build(loads_spec(text, "net.yaml"))


def test_every_op_has_a_torch_builder():
    missing = [name for name, op in public_ops().items() if op.module is None]
    assert missing == []


def test_submodules_follow_the_spec_layer_paths():
    module = build_module(cnncost.build_graph("resnet18"))
    names = dict(module.named_modules())
    for path in ("conv1", "layer1.0.conv1", "layer2.0.downsample", "layer4.1.bn2", "fc"):
        assert any(n == path or n.startswith(path + ".") for n in names), path
    assert isinstance(module.get_submodule("layer1.0.conv1"), torch.nn.Conv2d)
    keys = module.state_dict().keys()
    assert "layer1.0.bn1.running_mean" in keys
    assert "fc.weight" in keys


def test_layer_names_that_clash_with_module_attributes_are_suffixed():
    graph = _graph(
        "name: n\ninput: [3, 8, 8]\nlayers:\n"
        "  train: {op: conv2d, out: 4, kernel: 1}\n  to: {op: relu}\n"
    )
    names = [n for n, _ in build_module(graph).named_modules()]
    assert names == ["", "train_", "to_"]


def test_branches_and_concat_run_with_the_spec_shapes():
    graph = cnncost.build_graph("inception_naive")
    module = build_module(graph).eval()
    with torch.inference_mode():
        out = module(torch.randn(2, *graph.input_shape))
    assert tuple(out.shape) == (2, 672, 28, 28)  # seed 001: 28×28×(128+192+96+256)


def test_in_place_ops_do_not_overwrite_a_tensor_another_layer_reads():
    """relu is in place by default; here its input also feeds the add, so torch must not
    overwrite it: the sum must be conv + relu(conv), not 2·relu(conv)."""
    graph = _graph(
        "name: n\ninput: [1, 4, 4]\nlayers:\n"
        "  conv: {op: conv2d, out: 2, kernel: 1}\n"
        "  relu: {op: relu}\n"
        "  sum: {op: add, from: [relu, conv]}\n"
    )
    module = build_module(graph).eval()
    x = torch.randn(1, 1, 4, 4)
    with torch.inference_mode():
        conv = module.get_submodule("conv")(x)
        expected = conv + torch.relu(conv)
        assert torch.allclose(module(x), expected)


def test_outputs_are_released_after_their_last_reader():
    module = build_module(cnncost.build_graph("resnet18"))
    live, peak = set(), 0
    live.add(module.input_name)
    for step in module.steps:
        live.add(step.node.name)
        peak = max(peak, len(live))
        live -= set(step.release)
    assert live == {module.graph.output}
    assert peak <= 4  # a residual block holds its input, the branch and the sum


@pytest.mark.parametrize("name", ["channel_shuffle", "channel_split"])
def test_shufflenet_ops_match_their_definition(name):
    x = torch.arange(12.0).reshape(1, 6, 1, 2)
    op = public_ops()[name]
    if name == "channel_shuffle":
        out = op.module({"groups": 2}, [(6, 1, 2)], (6, 1, 2))(x)
        # channels 0..5 in 2 groups of 3 interleave as 0, 3, 1, 4, 2, 5
        assert out[0, :, 0, 0].tolist() == [0.0, 6.0, 2.0, 8.0, 4.0, 10.0]
    else:
        out = op.module({"parts": 2, "index": 1}, [(6, 1, 2)], (3, 1, 2))(x)
        assert out[0, :, 0, 0].tolist() == [6.0, 8.0, 10.0]


def test_training_only_branches_run_in_train_mode_only():
    from test_training_branches import AUX

    graph = _graph(AUX)
    module = build_module(graph)
    ran = []
    x = torch.randn(2, 3, 8, 8)
    module.train().run(x, lambda node, out: ran.append(node.name))
    assert "aux.fc" in ran
    ran.clear()
    module.eval().run(x, lambda node, out: ran.append(node.name))
    assert "aux.fc" not in ran and "fc" in ran


def test_verify_counts_the_training_only_branches():
    from test_training_branches import AUX

    from cnncost.backend.verify import verify

    result = verify(_graph(AUX))
    assert result.ok
    assert result.totals["params"] == (4 * 27 + 4 + 2 * 50, 4 * 27 + 4 + 2 * 50)


def test_a_dropped_training_branch_refuses_train_mode_in_one_line():
    """Where the auxiliary head does not fit, eval mode runs and train mode says why."""
    from test_training_branches import SMALL_AUX

    from cnncost.backend.verify import verify
    from cnncost.errors import CnnCostError

    graph = build(loads_spec(SMALL_AUX, "net.yaml"), input_shape=(3, 16, 16))
    module = build_module(graph)
    x = torch.randn(1, 3, 16, 16)
    assert tuple(module.eval()(x).shape) == (1, 10)
    with pytest.raises(CnnCostError) as info:
        module.train()(x)
    message = str(info.value)
    assert "\n" not in message and "'aux'" in message and "collapses to zero" in message
    result = verify(graph, device="meta")
    assert result.ok  # the layers that exist still check out
    from cnncost.render.measure import verify_text

    assert "not run: the training-only branch 'aux' does not fit" in verify_text(result)
