"""Published accuracy carried by the specs: every figure has its source and is a copy of
it (torchvision's weights metadata; the decks' tables, re-read here from the seed files),
and `list`/`compare --accuracy` show it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cnncost.accuracy import published
from cnncost.zoo import spec_dir

# the lecture decks, in shared/seeds/ above the repository (as tests/test_audit.py finds them)
SEEDS = next(
    (
        p / "shared" / "seeds"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "seeds").is_dir()
    ),
    Path("shared/seeds"),
)


def _figures():
    for path in sorted(Path(spec_dir()).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for variant, body in (data.get("variants") or {}).items():
            if body.get("accuracy"):
                yield pytest.param(variant, body["accuracy"], id=variant)


FIGURES = list(_figures())


def test_the_zoo_carries_accuracy():
    assert len(FIGURES) >= 50


@pytest.mark.parametrize(("model", "figures"), FIGURES)
def test_every_figure_has_its_source_and_reads_back(model, figures):
    assert set(figures) <= {"top1", "top5"}
    for figure in figures.values():
        assert 0 < figure["value"] <= 100 and figure["source"].strip()
    if "top1" in figures and "top5" in figures:
        assert figures["top5"]["value"] >= figures["top1"]["value"]
    acc = published(model)
    assert acc is not None
    for key, figure in figures.items():
        assert getattr(acc, key).value == figure["value"]


@pytest.mark.parametrize(
    ("model", "top1", "top5"),
    [
        # torchvision's published metadata, acc@1 / acc@5 of the IMAGENET1K_V1 weights
        # (https://pytorch.org/vision/stable/models.html, "Table of all available weights")
        ("resnet50", 76.13, 92.862),
        ("vgg16", 71.592, 90.382),
        ("efficientnet_b0", 77.692, 93.532),
        ("mobilenet_v2", 71.878, 90.286),
    ],
)
def test_torchvision_figures(model, top1, top5):
    acc = published(model)
    assert (acc.top1.value, acc.top5.value) == (top1, top5)
    assert acc.top1.source.startswith("torchvision ") and "acc@1" in acc.top1.source


def _seed_table(file: str, header: str) -> dict[str, list[str]]:
    lines = (SEEDS / file).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = {}
    for line in lines[start + 1 :]:
        if "\t" not in line:
            break
        cells = [c.replace("<b>", "").replace("</b>", "").strip() for c in line.split("\t")]
        rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.parametrize(
    ("model", "row"),
    [
        ("xception", "Xception (Chollet, 2017)"),
        ("inception_v4", "Inception-v4 (Szegedy et al., 2017)"),
        ("inception_resnet_v2", "Inception-resnet-v2 (Szegedy et al., 2017)"),
        ("densenet264", "DenseNet-264 (Huang et al., 2017)"),
        ("resnet152_v1", "ResNet-152 (He et al., 2016)"),
    ],
)
def test_deck_002_figures(model, row):
    table = _seed_table("002_7da1b3e570abce40.txt", "Model\tTop-1 Acc.")
    top1, top5 = (float(c.rstrip("%")) for c in table[row][:2])
    acc = published(model)
    assert (acc.top1.value, acc.top5.value) == (top1, top5)
    assert row in acc.top1.source


def test_deck_003_top5_error_becomes_top5_only():
    table = _seed_table("003_aaa9e73590bc30ce.txt", "CNN Architecture\tLayers\tTop-5 error")
    error = float(table["GoogleNet"][1].rstrip("%"))
    acc = published("googlenet_paper")
    assert acc.top1 is None and acc.top5.value == pytest.approx(100 - error)


def test_a_model_without_figures_has_none():
    assert published("resnet18_v1") is None


def test_list_and_compare_show_accuracy(run):
    code, out, _ = run("compare", "resnet50", "googlenet_paper", "--accuracy", "--format", "json")
    assert code == 0
    models = {m["model"]: m["accuracy"] for m in json.loads(out)["models"]}
    assert models["resnet50"]["top1"] == 76.13
    assert models["googlenet_paper"]["top1"] is None and models["googlenet_paper"]["top5"]
    code, out, _ = run("compare", "resnet50", "vgg16", "--accuracy")
    assert code == 0 and "resnet50: 76.13 / 92.86" in out
    code, out, _ = run("list", "--accuracy", "--format", "csv")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.endswith("top1,top1_source,top5,top5_source")
    assert any(r.startswith("resnet50,") and ",76.13," in r for r in rows)


def test_a_bad_accuracy_entry_is_a_located_error(tmp_path, run):
    path = tmp_path / "m.yaml"
    path.write_text(
        "input: [3, 8, 8]\nlayers:\n  c: {op: conv2d, out: 2, kernel: 3}\n"
        "variants:\n  m:\n    accuracy:\n      top1: {value: 170}\n"
    )
    code, _, err = run("compare", f"{path}:m", f"{path}:m", "--accuracy")
    assert code == 2 and err.startswith(f"cnncost: error: {path}:") and "top1" in err
