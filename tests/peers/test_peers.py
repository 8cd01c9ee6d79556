"""Each counting convention equals its peer tool's total on torchvision's real models.

Needs the `peers` test extra (fvcore, ptflops, thop, torchinfo) and torchvision installed
with --no-deps (README, "Tests"); without them these tests are skipped with that reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import cnncost
from cnncost import conventions
from cnncost.expr import evaluate

from . import peertools

pytest.importorskip("torch", reason="install the `peers` test extra (README, Tests)")
try:
    # before the peers: ptflops imports torchvision.ops when it is imported
    peertools.import_torchvision()
except ImportError:
    pytest.skip("torchvision is not installed (README, Tests)", allow_module_level=True)
for _module in ("fvcore", "ptflops", "thop", "torchinfo"):
    pytest.importorskip(_module, reason="install the `peers` test extra (README, Tests)")

CASES = yaml.safe_load(Path(__file__).with_name("cases.yaml").read_text(encoding="utf-8"))
FAILURES = {(f["peer"], f["model"]): f["error"] for f in CASES["failures"]}
GAPS = {(g["peer"], g["model"], g.get("size", 224)): g["by_op"] for g in CASES["gaps"]}
PARAMS = [
    pytest.param(peer, model, size, id=f"{peer}-{model}-{size}")
    for model, sizes in CASES["models"].items()
    for size in sizes
    for peer in peertools.PEERS
]


def _gap(report: cnncost.Report, by_op: dict[str, str]) -> int:
    """A recorded gap: each op's formula summed over that op's layers."""
    return sum(
        evaluate(by_op[layer.op], layer.quantities) * layer.quantities["batch"]
        for layer in report.inference_layers
        if layer.op in by_op
    )


@pytest.mark.parametrize(("peer", "model", "size"), PARAMS)
def test_convention_equals_the_peer(peer: str, model: str, size: int):
    shape = (3, size, size)
    try:
        measured = peertools.measure(peer, model, shape)
    except Exception as exc:
        expected = FAILURES.get((peer, model))
        assert expected is not None, f"{peer} failed on {model} and that is not recorded: {exc}"
        assert str(exc).startswith(expected)
        return
    assert (peer, model) not in FAILURES, f"{peer} now counts {model}: drop it from failures"
    report = cnncost.analyze(model, input_shape=shape)
    counted = conventions.total(report, peer)
    gap = _gap(report, GAPS.get((peer, model, size), {}))
    assert measured - counted == gap, (
        f"{peer} on {model} at {size}: measured {measured:,}, convention {counted:,}"
    )


# Peers that count nothing for a whole own build (all its ops are zero for them).
ZERO = {"upsampling": ("torch", "ptflops-aten", "torchinfo")}


@pytest.mark.parametrize("peer", list(peertools.PEERS))
@pytest.mark.parametrize("name", list(CASES["own_builds"]))
def test_convention_equals_the_peer_on_cnncosts_own_build(peer: str, name: str, tmp_path: Path):
    """Ops no torchvision model has, built as torch modules by cnncost's backend."""
    from cnncost.backend.module import build_module

    spec = tmp_path / f"{name}.yaml"
    spec.write_text(f"name: {name}\n" + CASES["own_builds"][name], encoding="utf-8")
    report = cnncost.analyze(str(spec))
    net = build_module(cnncost.build_graph(str(spec))).eval()
    measured = peertools.PEERS[peer](net, report.input_shape)
    counted = conventions.total(report, peer)
    assert measured == counted, f"{peer} on {name}: measured {measured:,}, convention {counted:,}"
    assert (counted == 0) == (peer in ZERO.get(name, ())), "the spec exercises what it counts"
