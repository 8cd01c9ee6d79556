"""Swin Transformer (specs/swin.yaml): the paper's Table 7 architecture, shifted windows in
every second block, the relative position bias, and the paper's and seed 002's figures.
torchvision's figures are checked by tests/test_zoo_expected.py.

References: Liu et al., ICCV 2021, Table 7 (stages: "concat 4×4, 96-d, LN" then
"win. sz. 7×7, dim 96, head 3" × 2, …; Swin-S/B: 18 blocks in stage 3, Swin-B C = 128),
Section 3.2 (SW-MSA alternates with W-MSA; the bias table B̂ of size (2M−1)×(2M−1)) and
Table 1(a) (params and FLOPs at 224²); seed 002's "At a glance" table.
"""

from __future__ import annotations

import pytest
from conftest import matches_printed, within_last_digit

import cnncost

# Table 7: model → (C, blocks per stage, heads per stage)
TABLE7 = {
    "swin_t": (96, (2, 2, 6, 2), (3, 6, 12, 24)),
    "swin_s": (96, (2, 2, 18, 2), (3, 6, 12, 24)),
    "swin_b": (128, (2, 2, 18, 2), (4, 8, 16, 32)),
}
# Table 1(a), ImageNet-1K at 224²: params, FLOPs (multiply-adds)
TABLE1A = {"swin_t": ("28M", "4.5G"), "swin_s": ("50M", "8.7G"), "swin_b": ("88M", "15.4G")}


def _attention(graph, stage):
    return [n for n in graph.nodes if n.name.startswith(f"{stage}.") and n.name.endswith(".attn")]


@pytest.mark.parametrize("model", sorted(TABLE7))
def test_table7_stages(model):
    c, depths, heads = TABLE7[model]
    graph = cnncost.build_graph(model)
    for i, (depth, h) in enumerate(zip(depths, heads, strict=True)):
        blocks = _attention(graph, f"stage{i + 1}")
        side, width = 56 // 2**i, c * 2**i  # downsampling 4×, 8×, 16×, 32×
        assert len(blocks) == depth
        assert {n.shape for n in blocks} == {(side, side, width)}
        assert {n.attrs["heads"] for n in blocks} == {h}
        assert {n.attrs["window"] for n in blocks} == {(7, 7)}
        # W-MSA and SW-MSA alternate; the shift is half a window
        assert [n.attrs["shift"] for n in blocks] == [(0, 0), (3, 3)] * (depth // 2)


def test_patch_merging_concatenates_2x2_and_halves_the_width():
    layers = {layer.name: layer for layer in cnncost.analyze("swin_t").layers}
    assert layers["patch_embed.proj"].output_shape == (96, 56, 56)
    assert layers["stage2.patch_merging.merge"].output_shape == (28, 28, 4 * 96)
    assert layers["stage2.patch_merging.reduction"].output_shape == (28, 28, 2 * 96)
    assert layers["stage2.patch_merging.reduction"].weights == 4 * 96 * 2 * 96
    assert layers["stage2.patch_merging.reduction"].biases == 0
    assert layers["head"].output_shape == (1000,)


def test_relative_position_bias():
    """B̂ ∈ R^((2M−1)×(2M−1)) per head, and the M²×M² index (a buffer) in every block."""
    layers = {layer.name: layer for layer in cnncost.analyze("swin_t").layers}
    attn = layers["stage1.blocks.0.w_msa.attn"]
    assert attn.biases == 3 * 96 + 96 + 13 * 13 * 3
    assert attn.buffers == 49 * 49
    assert cnncost.analyze("swin_t").totals.buffers == 12 * 49 * 49


@pytest.mark.parametrize("model", sorted(TABLE1A))
def test_table1a(model):
    params, flops = TABLE1A[model]
    totals = cnncost.analyze(model).totals
    assert within_last_digit(totals.params, params)
    assert within_last_digit(totals.macs, flops)


def test_seed002_at_a_glance():
    """Seed 002, "At a glance": "Swin Transformer 2021 SwinT-B/16 83.582 96.64 87.8M 15.43"
    (torchvision's Swin-B figures; the slide's "/16" is not Swin's patch size, which is 4)."""
    totals = cnncost.analyze("swin_b").totals
    assert matches_printed(totals.params, "87.8M")
    assert matches_printed(totals.macs, "15.43G")


def test_window_attention_is_local():
    """Section 3.2: attention within non-overlapping M×M windows: a W-MSA layer on the 4×4
    patches of stage 1 sees 7 patches (28 pixels) across, not the whole image."""
    layers = {layer.name: layer for layer in cnncost.analyze("swin_t").layers}
    assert layers["patch_embed.proj"].receptive_field == (4, 4)
    assert layers["stage1.blocks.0.w_msa.attn"].receptive_field == (28, 28)
    assert layers["stage2.patch_merging.merge"].jump == (8, 8)
