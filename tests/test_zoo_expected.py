"""Every figure a built-in spec declares under `expected:` (torchvision's published counts,
paper tables) is checked against the computed value. A new spec is tested the moment it
declares its figures.

The specs are read here with PyYAML, independently of cnncost's own parser.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import matches_printed, printed, within_last_digit

import cnncost
from cnncost.zoo import builtin_models, spec_dir

METRICS = {"params", "macs", "train_params", "train_macs"}


def _expectations():
    for path in sorted(Path(spec_dir()).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for variant, body in (data.get("variants") or {}).items():
            for metric, expected in (body.get("expected") or {}).items():
                yield pytest.param(variant, metric, expected, id=f"{variant}-{metric}")


EXPECTATIONS = list(_expectations())


def test_there_are_published_figures_to_check():
    models = {p.values[0] for p in EXPECTATIONS}
    for name in ("vgg16", "googlenet", "resnet18", "resnet50", "resnet152", "resnet50_v1"):
        assert name in models


@pytest.mark.parametrize(("model", "metric", "expected"), EXPECTATIONS)
def test_published_figure(model, metric, expected):
    assert metric in METRICS, f"unknown metric {metric!r} in {model}"
    assert expected.get("source"), f"{model} {metric}: every figure needs its source"
    computed = getattr(cnncost.analyze(model).totals, metric)
    value = expected["value"]
    match = expected.get("match", "exact")
    if match == "exact":
        assert isinstance(value, int)
        assert computed == value
    elif match == "printed":
        significant = expected.get("significant")
        assert matches_printed(computed, value, significant), (
            f"{computed:,} does not round to {value}"
        )
    elif match == "close":
        # Within one unit of the last digit, but not a rounding of the count: a looser
        # agreement, kept with its reason; the test fails if it ever rounds correctly.
        off = float((printed(value)[0] - computed) * 100 / computed)
        assert expected.get("reason"), f"{model} {metric}: a 'close' figure needs its reason"
        assert not matches_printed(computed, value), f"{computed:,} now rounds to {value}"
        assert within_last_digit(computed, value), f"{value} is {off:+.2f}% from {computed:,}"
    elif match == "differs":
        # A figure we do not reproduce, kept with the reason; the test fails if it ever
        # starts to match, so the recorded reason cannot go stale.
        assert expected.get("reason"), f"{model} {metric}: a 'differs' figure needs its reason"
        assert not within_last_digit(computed, str(value)), f"{computed:,} now matches {value}"
    else:
        pytest.fail(f"unknown match rule {match!r}")


@pytest.mark.parametrize("model", sorted(builtin_models()))
def test_every_builtin_model_builds(model):
    report = cnncost.analyze(model)
    assert report.totals.params > 0
    assert report.totals.macs > 0
    assert report.layers[0].op == "input"


def test_basic_block_resnets_are_the_same_in_both_builds():
    """v1 and v1.5 differ only in where a bottleneck puts its stride."""
    for depth in (18, 34):
        a = cnncost.analyze(f"resnet{depth}").to_dict()
        b = cnncost.analyze(f"resnet{depth}_v1").to_dict()
        assert a["totals"] == b["totals"]
    assert cnncost.analyze("resnet50_v1").totals.macs < cnncost.analyze("resnet50").totals.macs


def test_vgg_family_depths():
    """The number of weighted layers is the name's number."""
    for depth in (11, 13, 16, 19):
        report = cnncost.analyze(f"vgg{depth}")
        assert sum(1 for layer in report.layers if layer.op in ("conv2d", "linear")) == depth
