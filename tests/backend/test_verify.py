"""verify: every built-in spec agrees with torch, and a wrong count is caught and shown."""

from __future__ import annotations

import dataclasses

import pytest

torch = pytest.importorskip("torch")

import cnncost  # noqa: E402
from cnncost.backend.verify import verify  # noqa: E402
from cnncost.ops import OPS  # noqa: E402
from cnncost.zoo import builtin_models  # noqa: E402

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no CUDA device")


# Above this many MACs a CPU forward pass takes minutes on CI's two cores (ViT-H/14 at
# 518 px is about 1 TMAC); those models are checked on the meta device, where torch counts
# shapes, parameters and FLOPs without doing the arithmetic.
CPU_MACS_LIMIT = 200 * 10**9


@pytest.mark.parametrize("model", sorted(builtin_models()))
def test_every_builtin_model_agrees_with_torch_on_cpu(model):
    graph = cnncost.build_graph(model)
    heavy = cnncost.analyze(model).totals.macs > CPU_MACS_LIMIT
    result = verify(graph, device="meta" if heavy else "cpu")
    assert result.mismatches == []
    assert result.layers_checked == len(graph.nodes) - 1


def test_meta_device_checks_without_arithmetic():
    result = verify(cnncost.build_graph("vgg16"), device="meta")
    assert result.ok
    # torchvision VGG16_Weights: 138,357,544 params, 15.47 GMACs
    assert result.totals["params"] == (138357544, 138357544)
    assert round(result.totals["macs"][1] / 1e9, 2) == 15.47


def _with_wrong_conv_costs(graph, change):
    """The same graph, with conv2d's cost rule replaced by a deliberately wrong one."""
    conv = OPS["conv2d"]
    wrong = dataclasses.replace(
        conv,
        cost=lambda a, i, o: dataclasses.replace(conv.cost(a, i, o), **change(conv.cost(a, i, o))),
    )
    nodes = tuple(dataclasses.replace(n, op=wrong) if n.op is conv else n for n in graph.nodes)
    return dataclasses.replace(graph, nodes=nodes)


def test_a_wrong_cost_rule_is_reported():
    """Undercount conv2d's MACs by one per layer: verify must name every conv."""
    graph = _with_wrong_conv_costs(
        cnncost.build_graph("resnet18"), lambda cost: {"macs": cost.macs - 1}
    )
    result = verify(graph, device="meta")
    bad = {m.layer for m in result.mismatches if m.check == "macs"}
    convs = {n.name for n in graph.nodes if n.op.name == "conv2d"}
    assert convs <= bad
    assert "(total)" in bad
    assert not result.ok


def test_batch_and_input_size_are_honoured():
    result = verify(cnncost.build_graph("resnet18", input_shape=(3, 160, 160), batch=3))
    assert result.ok
    assert result.totals["shape"] == ((3, 1000), (3, 1000))


def test_cli_verify_passes_and_fails(run, monkeypatch):
    code, out, err = run("verify", "inception_bottleneck")
    assert code == 0, err
    assert "All layers agree" in out
    real = cnncost.build_graph
    monkeypatch.setattr(
        cnncost,
        "build_graph",
        lambda *a, **k: _with_wrong_conv_costs(real(*a, **k), lambda cost: {"weights": 0}),
    )
    code, out, err = run("verify", "inception_bottleneck", "--format", "json")
    assert code == 1
    assert '"ok": false' in out
    code, out, err = run("verify", "inception_bottleneck")
    assert code == 1
    assert "mismatches" in out and "params" in out


def test_cli_verify_without_torch_is_one_line(run, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)
    code, out, err = run("verify", "resnet18")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "pip install 'cnncost[torch]'" in err


@pytest.mark.gpu
@needs_cuda
def test_verify_on_cuda():
    assert verify(cnncost.build_graph("resnet50"), device="cuda").ok
