"""Every built-in that carries a torchvision name equals torchvision at every input size,
odd ones included, not only at the size its published figures were measured at.

The models and their figures are read (with PyYAML) from the `expected:` entries of the
specs whose source is torchvision's weight metadata (num_params): the figures are not
typed again here. Parameters must equal torchvision's at every size; MACs are checked at a
second, odd size by `cnncost verify` on the meta device, which counts with torch's own
FlopCounterMode rather than with cnncost's shape propagation. Where torchvision itself
refuses a size (its ViT asserts its image size), cnncost must refuse it too, in one line
that says why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import cnncost
from cnncost.errors import SpecError
from cnncost.zoo import spec_dir

SIZES = (None, 193, 257, 320)  # None: the model's own input size
PARAM_METRICS = ("params", "train_params")


def _torchvision_models() -> dict[str, tuple[dict, bool]]:
    """Model → (its torchvision parameter figures by metric, whether its input is fixed)."""
    models = {}
    for path in sorted(Path(spec_dir()).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for variant, body in (data.get("variants") or {}).items():
            figures = {
                metric: figure
                for metric, figure in (body.get("expected") or {}).items()
                if metric in PARAM_METRICS and str(figure["source"]).startswith("torchvision")
            }
            if figures:
                models[variant] = (figures, bool(data.get("fixed_input")))
    return models


MODELS = _torchvision_models()


def test_the_torchvision_models_are_all_here():
    """The families the issue names, and none of the paper-form variants."""
    for name in (
        "alexnet",
        "vgg11",
        "vgg16",
        "vgg19_bn",
        "squeezenet1_0",
        "googlenet",
        "inception_v3",
        "densenet121",
        "mobilenet_v2",
        "shufflenet_v2_x1_0",
        "efficientnet_b7",
        "resnet50",
        "wide_resnet50_2",
        "resnext101_64x4d",
        "convnext_tiny",
        "swin_t",
        "vit_b_16",
        "vit_h_14_518",
    ):
        assert name in MODELS, name
    assert not {"vgg16_paper", "alexnet_2012", "resnet50_v1"} & set(MODELS)
    assert len(MODELS) >= 55


def _shape(model: str, size: int | None) -> tuple[int, ...]:
    native = cnncost.analyze(model).input_shape
    return native if size is None else (native[0], size, size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: "native" if s is None else str(s))
@pytest.mark.parametrize("model", sorted(MODELS))
def test_torchvision_parameters_at_every_size(model, size):
    figures, fixed = MODELS[model]
    native = cnncost.analyze(model).input_shape
    shape = _shape(model, size)
    if fixed and shape != native:
        with pytest.raises(SpecError) as info:
            cnncost.analyze(model, input_shape=shape)
        message = str(info.value)
        assert "\n" not in message
        wanted = "×".join(map(str, native))
        got = "×".join(map(str, shape))
        assert f"{model} takes only a {wanted} input, not {got}: torchvision's" in message
        return
    report = cnncost.analyze(model, input_shape=shape)
    for metric, figure in figures.items():
        value = figure["value"]
        assert isinstance(value, int), (model, metric)
        if metric == "train_params" and report.dropped:
            # An auxiliary head that does not fit (test_inception_v3_aux_head_fits_…).
            assert report.totals.train_params is None
            continue
        assert getattr(report.totals, metric) == value, (model, metric, shape)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_torchvision_macs_at_an_odd_size_by_torchs_own_count(model):
    """Per layer and in total: shapes by torch, MACs by torch's FlopCounterMode."""
    torch = pytest.importorskip("torch")
    from cnncost.backend.verify import verify

    _, fixed = MODELS[model]
    shape = _shape(model, None if fixed else 193)
    graph = cnncost.build_graph(model, input_shape=shape)
    with torch.device("meta"):
        result = verify(graph, device="meta")
    assert result.ok, result.mismatches[:3]
    assert result.layers_checked == len(graph.nodes) - 1
    assert result.totals["macs"][1] > 0


def _mixed_6e_side(size: int) -> int:
    """The side of Inception-v3's 17×17 grid at input size×size, from torchvision's layer
    list: 3×3/2, 3×3, 3×3 pad 1, max 3×3/2, 1×1, 3×3, max 3×3/2, Mixed_5b–d (same size),
    Mixed_6a's 3×3/2; Mixed_6b–e keep it."""
    side = (size - 3) // 2 + 1
    side -= 2
    side = (side - 3) // 2 + 1
    side -= 2
    side = (side - 3) // 2 + 1
    return (side - 3) // 2 + 1


@pytest.mark.parametrize("size", (193, 224, 257, 299, 320))
def test_inception_v3_aux_head_fits_where_torchvision_can_train(size):
    """AuxLogits pools the grid 5×5/3, then convolves 5×5 without padding: it needs a 5×5
    pooled map. Below that torchvision runs in eval mode only, and so does cnncost."""
    figures, _ = MODELS["inception_v3"]
    side = _mixed_6e_side(size)
    fits = (side - 5) // 3 + 1 >= 5
    report = cnncost.analyze("inception_v3", input_shape=(3, size, size))
    assert report.output_shape == (1000,)
    assert report.totals.params == cnncost.analyze("inception_v3").totals.params
    if fits:
        assert report.dropped == ()
        assert report.totals.train_params == figures["train_params"]["value"]
        return
    assert [name for name, _ in report.dropped] == ["AuxLogits"]
    assert report.totals.train_params is None and report.totals.train_macs is None
    note = report.training_note
    assert note is not None and "\n" not in note
    assert f"'AuxLogits' does not fit at 3×{size}×{size}" in note
    assert "AuxLogits.conv1.conv: conv2d: height collapses to zero" in note


def test_inception_v3_at_224_prints_its_inference_totals(run):
    code, out, err = run("inception_v3", "--input", "3x224x224")
    assert code == 0 and err == ""
    assert "23,834,568" in out  # the parameters torchvision's eval-mode model runs
    training = [line for line in out.splitlines() if line.strip().startswith("training")]
    assert len(training) == 1
    assert "no training totals: the training-only branch 'AuxLogits'" in training[0]
    code, out, _ = run("inception_v3", "--input", "3x224x224", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["totals"]["train_params"] is None
    assert [b["name"] for b in data["dropped_branches"]] == ["AuxLogits"]
    assert "collapses to zero" in data["dropped_branches"][0]["reason"]


@pytest.mark.parametrize("size", SIZES[1:])
@pytest.mark.parametrize("depth", (11, 13, 16, 19))
def test_vgg_paper_form_follows_the_input_size(depth, size):
    """vgg*_paper has no adaptive pool: fc6 sees 512·(s/32)² inputs; torchvision's always
    512·7·7. At 224 the two are the same network, less the pool's stored output."""
    figures, _ = MODELS[f"vgg{depth}"]
    published = figures["params"]["value"]
    paper = cnncost.analyze(f"vgg{depth}_paper", input_shape=(3, size, size))
    side = size // 32
    assert paper.totals.params == published - 512 * 7 * 7 * 4096 + 512 * side * side * 4096
    native = cnncost.analyze(f"vgg{depth}_paper")
    assert native.totals.params == published
    assert native.totals.macs == cnncost.analyze(f"vgg{depth}").totals.macs
