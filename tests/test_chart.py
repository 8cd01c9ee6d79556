"""`cnncost chart`: top-1 accuracy against MACs, bubble area ∝ params."""

from __future__ import annotations

import json

import cnncost
from cnncost.chart import families, select


def test_families_and_models_are_chosen():
    assert select(["vgg16"]) == ["vgg16"]
    assert select(["efficientnet"]) == [f"efficientnet_b{i}" for i in range(8)]
    assert "resnet50" in families()["resnet"]


def test_json_points_and_left_out_notes(run):
    code, out, err = run("chart", "resnet", "googlenet_paper", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    points = {m["model"]: m for m in data["models"]}
    r50 = points["resnet50"]
    totals = cnncost.analyze("resnet50").totals
    assert (r50["macs"], r50["params"], r50["top1"]) == (totals.macs, totals.params, 76.13)
    assert "resnet18_v1" not in points and "googlenet_paper" not in points
    assert any(n.startswith("resnet18_v1: left out") for n in data["left_out"])
    assert any("googlenet_paper" in n and "top-5 93.3% only" in n for n in data["left_out"])


def test_terminal_and_image(run, tmp_path):
    code, out, err = run("chart", "efficientnet", "vgg")
    assert code == 0, err
    assert "Top-1 accuracy vs MACs" in out and "efficientnet_b7: 84.122% top-1" in out
    target = tmp_path / "chart.svg"
    code, out, err = run("chart", "efficientnet", "vgg", "--plot", str(target))
    assert code == 0, err
    assert target.read_text().startswith("<?xml") and out.startswith(f"wrote {target}")


def test_unknown_name_is_one_line(run):
    code, _, err = run("chart", "resnet5O")
    assert code == 2 and "did you mean" in err and err.count("\n") == 1
