"""Transformer ops: shapes and counts computed by hand from the definitions (ViT, Swin,
ConvNeXt, as torchvision builds them)."""

from __future__ import annotations

import pytest
from conftest import apply_op

from cnncost.errors import ShapeError
from cnncost.ops import Cost, get_op

# -- permute ---------------------------------------------------------------------------------


def test_permute_to_channels_last_and_back():
    out, cost = apply_op("permute", (96, 56, 28), dims=(0, 2, 3, 1))
    assert out == (56, 28, 96)
    assert cost == Cost()  # a view
    assert apply_op("permute", out, dims=(0, 3, 1, 2))[0] == (96, 56, 28)


def test_permute_tokens():
    """ViT: (D, N) → (N, D) after flattening the patch grid."""
    assert apply_op("permute", (768, 196), dims=(0, 2, 1))[0] == (196, 768)


@pytest.mark.parametrize("dims", [(0, 1), (0, 1, 1), (1, 0, 2), (0, 1, 2, 3)])
def test_permute_refuses_bad_orders(dims):
    with pytest.raises(ShapeError):
        apply_op("permute", (4, 5), dims=dims)


# -- layer norm ------------------------------------------------------------------------------


def test_layernorm_over_the_last_dim():
    n, d = 197, 768
    out, cost = apply_op("layernorm", (n, d))
    assert out == (n, d)
    assert (cost.weights, cost.biases, cost.buffers) == (d, d, 0)
    assert cost.macs == 0
    assert cost.elementwise == 5 * n * d  # fvcore's count: 5 per element with the affine
    assert cost.activations == n * d


def test_layernorm_channels_last_map_normalises_the_last_dim():
    _, cost = apply_op("layernorm", (56, 56, 96))
    assert cost.weights == cost.biases == 96


def test_layernorm_over_channels():
    """ConvNeXt's LayerNorm2d: C×H×W normalised over C."""
    c, h, w = 96, 56, 56
    out, cost = apply_op("layernorm", (c, h, w), axis="channels")
    assert out == (c, h, w)
    assert cost.weights == cost.biases == c
    assert cost.elementwise == 5 * c * h * w


def test_layernorm_without_affine():
    _, cost = apply_op("layernorm", (10, 8), affine=False)
    assert (cost.weights, cost.biases) == (0, 0)
    assert cost.elementwise == 4 * 10 * 8


def test_layernorm_defaults():
    op = get_op("layernorm")
    assert op.defaults["eps"] == 1e-5  # nn.LayerNorm's
    assert op.defaults["axis"] == "last"


def test_layernorm_over_channels_needs_a_map():
    with pytest.raises(ShapeError):
        apply_op("layernorm", (197, 768), axis="channels")


# -- class token, position embedding, token selection ----------------------------------------


def test_class_token():
    out, cost = apply_op("class_token", (196, 768))
    assert out == (197, 768)
    assert cost.weights == 768
    assert cost.macs == cost.elementwise == 0
    assert cost.activations == 197 * 768  # torch.cat copies


def test_position_embedding():
    out, cost = apply_op("position_embedding", (197, 768))
    assert out == (197, 768)
    assert cost.weights == 197 * 768  # ViT-B/16's encoder.pos_embedding: 151,296
    assert cost.elementwise == 197 * 768
    assert cost.activations == 197 * 768


def test_select_token():
    out, cost = apply_op("select_token", (197, 768))
    assert out == (768,)
    assert cost == Cost()
    with pytest.raises(ShapeError):
        apply_op("select_token", (197, 768), index=197)


@pytest.mark.parametrize("name", ["class_token", "select_token", "multihead_attention"])
def test_sequence_ops_need_tokens(name):
    with pytest.raises(ShapeError):
        apply_op(name, (3, 8, 8), **({"heads": 1} if name == "multihead_attention" else {}))


# -- multi-head self-attention ---------------------------------------------------------------


def test_multihead_attention_vit_b16_layer():
    """One ViT-B/16 encoder layer's attention: N = 197 tokens, D = 768, 12 heads."""
    n, d, h = 197, 768, 12
    out, cost = apply_op("multihead_attention", (n, d), heads=h)
    assert out == (n, d)
    # in_proj 2304×768 + 2304, out_proj 768×768 + 768 (nn.MultiheadAttention)
    assert cost.weights == 2304 * 768 + 768 * 768 == 2_359_296
    assert cost.biases == 2304 + 768
    qkv = 197 * 768 * 2304  # 348,585,984
    scores = 12 * 197 * 197 * 64  # Q·Kᵀ, each head 197×64 by 64×197
    context = 12 * 197 * 197 * 64  # A·V
    proj = 197 * 768 * 768
    assert cost.macs == qkv + scores + context + proj == 524_391_936
    assert cost.elementwise == (2304 + 768) * 197 + 197 * 768 + 3 * 12 * 197 * 197
    assert cost.activations == 3 * n * d + 2 * h * n * n + 2 * n * d


def test_multihead_attention_without_bias():
    _, cost = apply_op("multihead_attention", (10, 16), heads=4, bias=False)
    assert cost.biases == 0
    assert cost.weights == 4 * 16 * 16
    assert cost.macs == 10 * 16 * 48 + 2 * 10 * 10 * 16 + 10 * 16 * 16


def test_multihead_attention_heads_must_divide():
    with pytest.raises(ShapeError):
        apply_op("multihead_attention", (197, 768), heads=5)


# -- window attention ------------------------------------------------------------------------


def test_window_attention_swin_t_stage1():
    """Swin-T stage 1: 56×56×96, 3 heads, 7×7 windows (64 of them, 49 tokens each)."""
    h = w = 56
    c, heads = 96, 3
    out, cost = apply_op("window_attention", (h, w, c), heads=heads, window=(7, 7))
    assert out == (h, w, c)
    assert cost.weights == 3 * 96 * 96 + 96 * 96
    assert cost.biases == 288 + 96 + 13 * 13 * 3  # + the (2·7−1)² × heads bias table
    assert cost.buffers == 49 * 49  # relative_position_index
    tokens = 56 * 56
    per_window_products = 64 * heads * 49 * 49 * 32  # windows · heads · 49×49 scores · 32
    assert per_window_products == tokens * 49 * c
    assert cost.macs == tokens * 96 * 288 + 2 * per_window_products + tokens * 96 * 96
    assert cost.macs == 145_108_992


def test_shifted_windows_add_the_mask():
    args = {"heads": 3, "window": (7, 7)}
    _, plain = apply_op("window_attention", (56, 56, 96), **args)
    _, shifted = apply_op("window_attention", (56, 56, 96), shift=(3, 3), **args)
    assert shifted.macs == plain.macs
    assert shifted.elementwise - plain.elementwise == 3 * 56 * 56 * 49  # one add per score


def test_no_shift_where_one_window_covers_the_map():
    """Swin-T stage 4 at 224: 7×7, one window; torchvision drops the shift there."""
    args = {"heads": 24, "window": (7, 7)}
    _, plain = apply_op("window_attention", (7, 7, 768), **args)
    _, shifted = apply_op("window_attention", (7, 7, 768), shift=(3, 3), **args)
    assert shifted == plain


def test_window_attention_pads_to_whole_windows():
    """10×17 is padded to 14×21 (6 windows): the projections run on the padded tokens."""
    c = 32
    _, cost = apply_op("window_attention", (10, 17, c), heads=2, window=(7, 7))
    tokens = 14 * 21
    assert cost.macs == tokens * c * 3 * c + 2 * tokens * 49 * c + tokens * c * c


def test_window_attention_rectangular_window():
    _, cost = apply_op("window_attention", (8, 12, 16), heads=2, window=(4, 6))
    assert cost.biases == 48 + 16 + 7 * 11 * 2
    assert cost.buffers == 24 * 24


def test_window_attention_checks():
    with pytest.raises(ShapeError):
        apply_op("window_attention", (56, 56, 96), heads=5, window=(7, 7))
    with pytest.raises(ShapeError):
        apply_op("window_attention", (56, 56, 96), heads=3, window=(7, 7), shift=(7, 7))
    with pytest.raises(ShapeError):
        apply_op("window_attention", (196, 96), heads=3, window=(7, 7))


# -- patch merging ---------------------------------------------------------------------------


def test_patch_merge():
    out, cost = apply_op("patch_merge", (56, 56, 96))
    assert out == (28, 28, 384)
    assert cost == Cost(activations=28 * 28 * 384)


def test_patch_merge_pads_odd_sizes():
    assert apply_op("patch_merge", (7, 8, 10))[0] == (4, 4, 40)


# -- layer scale -----------------------------------------------------------------------------


def test_layer_scale_over_channels():
    c, h, w = 96, 56, 56
    out, cost = apply_op("layer_scale", (c, h, w), axis="channels")
    assert out == (c, h, w)
    assert cost.weights == c  # ConvNeXt's layer_scale: C×1×1
    assert cost.elementwise == c * h * w
    assert cost.activations == c * h * w


def test_layer_scale_over_the_last_dim():
    _, cost = apply_op("layer_scale", (197, 768))
    assert cost.weights == 768
