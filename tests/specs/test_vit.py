"""Vision Transformer (specs/vit.yaml): the paper's Table 1 configurations, the sequence
length of Eq. 1, torchvision's figures at other resolutions, and seed 002's claim.
torchvision's figures at 224×224 are checked by tests/test_zoo_expected.py.

References: Dosovitskiy et al., ICLR 2021, Table 1 (Layers, Hidden size D, MLP size,
Heads) and Section 3.1 (N = HW/P² patches plus the class token); torchvision's weight
metadata (num_params, _ops in GMACs) for the SWAG fine-tuned weights; seed 002's "At a
glance" table.
"""

from __future__ import annotations

import pytest
from conftest import matches_printed

import cnncost
from cnncost.errors import SpecError

# Table 1: model → (layers, hidden size D, MLP size, heads)
TABLE1 = {
    "vit_b_16": (12, 768, 3072, 12),
    "vit_b_32": (12, 768, 3072, 12),
    "vit_l_16": (24, 1024, 4096, 16),
    "vit_l_32": (24, 1024, 4096, 16),
    "vit_h_14": (32, 1280, 5120, 16),
}
PATCH = {"vit_b_16": 16, "vit_b_32": 32, "vit_l_16": 16, "vit_l_32": 32, "vit_h_14": 14}


@pytest.mark.parametrize("model", sorted(TABLE1))
def test_table1_configuration(model):
    depth, hidden, mlp, heads = TABLE1[model]
    graph = cnncost.build_graph(model)
    attention = [n for n in graph.nodes if n.op.name == "multihead_attention"]
    assert len(attention) == depth
    assert {n.attrs["heads"] for n in attention} == {heads}
    tokens = (224 // PATCH[model]) ** 2 + 1  # N = HW/P² patches and the class token
    assert {n.shape for n in attention} == {(tokens, hidden)}
    fc1 = [n for n in graph.nodes if n.name.endswith("mlp.fc1")]
    assert {n.shape for n in fc1} == {(tokens, mlp)}
    assert graph.nodes[-1].shape == (1000,)


def test_b16_patch_embedding_and_sequence():
    layers = {layer.name: layer for layer in cnncost.analyze("vit_b_16").layers}
    assert layers["conv_proj"].output_shape == (768, 14, 14)
    assert layers["conv_proj"].weights == 768 * 3 * 16 * 16  # E: (P²·C) × D
    assert layers["tokens"].output_shape == (196, 768)
    assert layers["class_token"].output_shape == (197, 768)
    assert layers["encoder.pos_embedding"].weights == 197 * 768  # E_pos: (N + 1) × D
    assert layers["cls"].output_shape == (768,)


# torchvision's SWAG end-to-end fine-tuned weights run at their own resolution, as models
# of their own (their published num_params and _ops are under `expected:` in specs/vit.yaml,
# checked by tests/test_zoo_expected.py): (model, the 224×224 model, side)
SWAG_E2E = [("vit_b_16_384", "vit_b_16", 384), ("vit_l_16_512", "vit_l_16", 512)]
SWAG_E2E.append(("vit_h_14_518", "vit_h_14", 518))


@pytest.mark.parametrize(("model", "base", "side"), SWAG_E2E)
def test_torchvision_swag_resolutions(model, base, side):
    """The position embedding holds (side/P)² + 1 vectors, so each size is its own model:
    the 224×224 one refuses the size and names the model built for it."""
    report = cnncost.analyze(model)
    assert report.input_shape == (3, side, side)
    _, hidden, _, _ = TABLE1[base]
    tokens = (side // PATCH[base]) ** 2 + 1
    layers = {layer.name: layer for layer in report.layers}
    assert layers["encoder.pos_embedding"].weights == tokens * hidden
    with pytest.raises(SpecError) as info:
        cnncost.analyze(base, input_shape=(3, side, side))
    message = str(info.value)
    assert "\n" not in message and model in message
    assert f"{base} takes only a 3×224×224 input, not 3×{side}×{side}" in message


def test_seed002_at_a_glance():
    """Seed 002, "At a glance": "Vision Transformer 2020 ViT-B/16 81.072 95.318 86.6M 17.56"
    (torchvision's figures; GFLOPs there are GMACs)."""
    report = cnncost.analyze("vit_b_16")
    assert matches_printed(report.totals.params, "86.6M")
    assert matches_printed(report.totals.macs, "17.56G")


def test_attention_sees_the_whole_image_from_the_first_layer():
    """Section 4.5: "self-attention allows ViT to integrate information across the entire
    image even in the lowest layers": a patch sees 16×16 pixels, one attention layer all."""
    layers = {layer.name: layer for layer in cnncost.analyze("vit_b_16").layers}
    assert layers["conv_proj"].receptive_field == (16, 16)
    assert layers["encoder.layers.0.self_attention"].receptive_field == (224, 224)
