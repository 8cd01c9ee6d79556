"""deform_conv2d: shapes and costs computed here by hand, and its torch module checked against
an ordinary conv (zero offsets), a naive bilinear reference (random offsets) and torch's own
FLOP counter."""

from __future__ import annotations

import math

import pytest
from conftest import apply_op

from cnncost.errors import ShapeError
from cnncost.ops import get_op

DEFORM = get_op("deform_conv2d")


def test_defaults_are_conv2d_defaults_plus_one_plain_offset_field():
    conv = get_op("conv2d")
    for name in ("stride", "padding", "dilation", "groups", "bias"):
        assert DEFORM.defaults[name] == conv.defaults[name]
    assert DEFORM.defaults["offset_groups"] == 1
    assert DEFORM.defaults["modulated"] is False


def test_small_case_by_hand():
    # 4 → 6 channels, 3×3, padding 1 on 8×8: 64 output positions, 9 taps.
    out, cost = apply_op("deform_conv2d", (4, 8, 8), out=6, kernel=(3, 3), padding=(1, 1))
    assert out == (6, 8, 8)
    # offset conv: 4 → 2·9 = 18 channels, 3×3, with bias; main conv: 4 → 6, 3×3, with bias
    assert cost.weights == 18 * 9 * 4 + 6 * 9 * 4 == 864
    assert cost.biases == 18 + 6
    assert cost.macs == 18 * 64 * 36 + 6 * 64 * 36 == 55_296
    # bias adds: 6·64 (main) + 18·64 (offset); sampling: 9·64 points × 10, 4·9·64 values × 7
    assert cost.elementwise == 6 * 64 + 18 * 64 + 10 * 576 + 7 * 2304 == 23_424
    # the output and the offset field
    assert cost.activations == 6 * 64 + 18 * 64
    assert cost.buffers == 0


def test_modulated_grouped_strided_dilated():
    # 8 → 16 channels, groups 2, offset groups 4, 3×3, stride 2, padding 2, dilation 2, 9×11
    c, h, w, o, g, og = 8, 9, 11, 16, 2, 4
    out, cost = apply_op(
        "deform_conv2d",
        (c, h, w),
        out=o,
        kernel=(3, 3),
        stride=(2, 2),
        padding=(2, 2),
        dilation=(2, 2),
        groups=g,
        bias=False,
        offset_groups=og,
        modulated=True,
    )
    oh, ow = (h + 4 - 4 - 1) // 2 + 1, (w + 4 - 4 - 1) // 2 + 1
    assert out == (o, oh, ow) == (16, 5, 6)
    positions, taps = oh * ow, 9
    off_ch = 3 * og * taps  # (dy, dx, mask logit) per tap and offset group = 108
    assert cost.weights == o * taps * (c // g) + off_ch * taps * c
    assert cost.biases == off_ch  # the main conv has none
    assert cost.macs == o * positions * taps * (c // g) + off_ch * positions * taps * c
    points, samples = og * taps * positions, c * taps * positions
    assert cost.elementwise == off_ch * positions + 11 * points + 8 * samples
    assert cost.activations == o * positions + off_ch * positions


def test_main_conv_costs_what_the_plain_conv_costs():
    attrs = {"out": 32, "kernel": (3, 3), "stride": (2, 2), "padding": (1, 1), "groups": 4}
    plain_out, plain = apply_op("conv2d", (16, 15, 15), **attrs)
    out, cost = apply_op("deform_conv2d", (16, 15, 15), **attrs)
    assert out == plain_out
    offset_macs = 18 * out[1] * out[2] * 9 * 16
    assert cost.macs - offset_macs == plain.macs
    assert cost.weights - 18 * 9 * 16 == plain.weights


@pytest.mark.parametrize(
    ("size", "k", "s", "p", "d"),
    [(56, 3, 1, 1, 1), (56, 3, 2, 1, 1), (38, 3, 1, 2, 2), (17, 5, 2, 1, 3), (10, 1, 1, 0, 1)],
)
def test_shape_follows_pytorch_conv(size, k, s, p, d):
    out, _ = apply_op(
        "deform_conv2d",
        (8, size, size),
        out=4,
        kernel=(k, k),
        stride=(s, s),
        padding=(p, p),
        dilation=(d, d),
    )
    n = (size + 2 * p - d * (k - 1) - 1) // s + 1
    assert out == (4, n, n)


def test_same_padding_keeps_the_size():
    out, _ = apply_op("deform_conv2d", (4, 7, 9), out=4, kernel=(3, 2), padding="same")
    assert out == (4, 7, 9)


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"offset_groups": 3}, "offset_groups=3"),
        ({"groups": 3}, "groups=3"),
        ({"out": 5, "groups": 2}, "output channels 5"),
    ],
)
def test_indivisible_groups_are_errors(attrs, message):
    with pytest.raises(ShapeError, match=message):
        apply_op("deform_conv2d", (4, 8, 8), **{"out": 6, "kernel": (3, 3), **attrs})


def test_receptive_field_is_the_whole_input():
    """Offsets are unbounded, so one output can read any input position (an ordinary 3×3
    conv in its place sees 3×3); the jump is still the conv's stride."""
    from cnncost.build import build
    from cnncost.report import analyze_graph
    from cnncost.spec import loads_spec

    def last(op):
        text = (
            "name: n\ninput: [4, 20, 30]\nlayers:\n"
            f"  c: {{op: {op}, out: 4, kernel: 3, stride: 2, padding: 1}}\n"
        )
        return analyze_graph(build(loads_spec(text, "net.yaml"))).layers[-1]

    assert last("conv2d").receptive_field == (3, 3)
    deform = last("deform_conv2d")
    assert deform.receptive_field == (20, 30)
    assert deform.jump == (2, 2)
    assert deform.output_shape == (4, 10, 15)


# --- the torch module --------------------------------------------------------------------


def _module(c_in, shape_out, **attrs):
    torch = pytest.importorskip("torch")
    resolved = {**DEFORM.defaults, **attrs}
    out = DEFORM.shape(resolved, [(c_in, *shape_out)])
    return torch, DEFORM.module(resolved, [(c_in, *shape_out)], out).double(), resolved


CASES = [
    {"out": 6, "kernel": (3, 3), "padding": (1, 1)},
    {"out": 6, "kernel": (3, 3), "stride": (2, 2), "padding": (2, 2), "dilation": (2, 2)},
    {"out": 4, "kernel": (3, 2), "stride": (2, 1), "padding": (1, 0), "groups": 2},
    {"out": 4, "kernel": (3, 3), "padding": "same", "bias": False, "offset_groups": 2},
    {"out": 4, "kernel": (2, 2), "padding": "same"},  # the odd padding unit goes after
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("attrs", CASES)
def test_zero_offsets_make_an_ordinary_conv(attrs):
    """The offset conv starts at zero (the paper's initialisation): the layer is then the
    ordinary convolution with the same weights."""
    torch, module, a = _module(4, (7, 9), **attrs)
    conv = torch.nn.Conv2d(
        4,
        a["out"],
        a["kernel"],
        stride=a["stride"],
        padding=a["padding"] if isinstance(a["padding"], str) else tuple(a["padding"]),
        dilation=a["dilation"],
        groups=a["groups"],
        bias=a["bias"],
    ).double()
    with torch.no_grad():
        conv.weight.copy_(module.weight)
        if a["bias"]:
            conv.bias.copy_(module.bias)
    assert not module.conv_offset.weight.any() and not module.conv_offset.bias.any()
    x = torch.randn(2, 4, 7, 9, dtype=torch.double)
    with torch.no_grad():
        assert torch.allclose(module(x), conv(x), atol=1e-10)


def test_zero_offsets_with_modulation_halve_the_conv():
    """DCNv2: with the offset conv at zero, every modulation scalar is sigmoid(0) = 1/2."""
    torch, module, _ = _module(4, (6, 6), out=5, kernel=(3, 3), padding=(1, 1), modulated=True)
    x = torch.randn(1, 4, 6, 6, dtype=torch.double)
    with torch.no_grad():
        plain = torch.nn.functional.conv2d(x, module.weight, padding=1)
        assert torch.allclose(module(x), plain / 2 + module.bias.view(1, -1, 1, 1), atol=1e-10)


def _reference(x, module, field):
    """Eq. (2)-(4) of Dai et al., one sampled value at a time: bilinear interpolation with
    g(a, b) = max(0, 1 - |a - b|) over the four integer neighbours, zero outside the image."""
    torch = pytest.importorskip("torch")
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = module.kernel, module.stride, module.dilation
    ph, pw = module.pad
    og, taps, (ho, wo) = module.offset_groups, kh * kw, field.shape[-2:]

    def g(a, b):
        return max(0.0, 1 - abs(a - b))

    def pixel(b, ch, i, j):
        return float(x[b, ch, i, j]) if 0 <= i < h and 0 <= j < w else 0.0

    cols = torch.zeros(n, c, taps, ho, wo, dtype=x.dtype)
    for b in range(n):
        for ch in range(c):
            group = ch // (c // og)
            for t in range(taps):
                k = group * taps + t
                for oy in range(ho):
                    for ox in range(wo):
                        y = oy * sh - ph + (t // kw) * dh + float(field[b, 2 * k, oy, ox])
                        xx = ox * sw - pw + (t % kw) * dw + float(field[b, 2 * k + 1, oy, ox])
                        y0, x0 = math.floor(y), math.floor(xx)
                        value = sum(
                            g(y, i) * g(xx, j) * pixel(b, ch, i, j)
                            for i in (y0, y0 + 1)
                            for j in (x0, x0 + 1)
                        )
                        if module.modulated:
                            value *= float(torch.sigmoid(field[b, 2 * og * taps + k, oy, ox]))
                        cols[b, ch, t, oy, ox] = value
    groups, o = module.groups, module.out_channels
    cg, og_out = c // groups, o // groups
    out = torch.zeros(n, o, ho, wo, dtype=x.dtype)
    for g in range(groups):
        weight = module.weight[g * og_out : (g + 1) * og_out].reshape(og_out, -1)
        col = cols[:, g * cg : (g + 1) * cg].reshape(n, cg * taps, ho * wo)
        out[:, g * og_out : (g + 1) * og_out] = (weight @ col).reshape(n, og_out, ho, wo)
    if module.bias is not None:
        out += module.bias.view(1, -1, 1, 1)
    return out


@pytest.mark.parametrize(
    "attrs",
    [
        {"out": 6, "kernel": (3, 3), "padding": (1, 1)},
        {"out": 4, "kernel": (3, 3), "stride": (2, 2), "padding": (2, 2), "dilation": (2, 2),
         "groups": 2, "offset_groups": 2, "modulated": True, "bias": False},
        {"out": 4, "kernel": (3, 2), "stride": (2, 1), "padding": (1, 0), "offset_groups": 4},
    ],
)  # fmt: skip
def test_random_offsets_match_the_bilinear_reference(attrs):
    torch, module, _ = _module(4, (7, 6), **attrs)
    torch.manual_seed(0)
    with torch.no_grad():
        module.conv_offset.weight.normal_(std=0.5)  # offsets of a few pixels, many fractional
        module.conv_offset.bias.normal_(std=1.0)
        x = torch.randn(2, 4, 7, 6, dtype=torch.double)
        expected = _reference(x, module, module.conv_offset(x))
        assert torch.allclose(module(x), expected, atol=1e-10)


@pytest.mark.parametrize("attrs", [*CASES, {"out": 6, "kernel": (3, 3), "modulated": True}])
def test_torch_counts_the_two_convs_macs_and_nothing_else(attrs):
    torch, module, _ = _module(4, (7, 9), **attrs)
    from torch.utils.flop_counter import FlopCounterMode

    _, cost = apply_op("deform_conv2d", (4, 7, 9), **attrs)
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        module(torch.randn(3, 4, 7, 9, dtype=torch.double))
    assert counter.get_total_flops() == 2 * 3 * cost.macs
    assert sum(p.numel() for p in module.parameters()) == cost.weights + cost.biases
    assert dict(module.named_parameters()).keys() >= {
        "weight",
        "conv_offset.weight",
        "conv_offset.bias",
    }
