"""Each op's vector shape rule (for sweeps) against its scalar rules, point by point, on
random sizes and attributes: the same output shape and cost wherever the scalar rule
runs, and a failing point exactly where it raises."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncost.errors import ShapeError
from cnncost.ops import get_op

SIZES = st.lists(st.integers(1, 70), min_size=2, max_size=12)


def check(name: str, attrs: dict, points: list[list[tuple[int, ...]]]) -> None:
    """points: per point, the op's input shapes (the same rank at every point)."""
    op = get_op(name)
    a = {**op.defaults, **attrs}
    n = len(points)
    ins = []
    for k in range(len(points[0])):
        dims = []
        for axis in range(len(points[0][k])):
            values = [p[k][axis] for p in points]
            same = all(v == values[0] for v in values)
            dims.append(values[0] if same else np.array(values, dtype=np.int64))
        ins.append(tuple(dims))
    out, bad = op.vshape(a, ins)
    bad = np.broadcast_to(np.asarray(bad, dtype=bool), (n,))
    safe = tuple(d if isinstance(d, int) else np.maximum(d, 1) for d in out)
    cost = op.cost(a, ins, safe)
    for i, shapes in enumerate(points):
        try:
            expected = op.shape(a, list(shapes))
        except ShapeError:
            assert bad[i], (name, attrs, shapes)
            continue
        assert not bad[i], (name, attrs, shapes)
        got = tuple(int(d if isinstance(d, int) else d[i]) for d in out)
        assert got == expected, (name, attrs, shapes)
        scalar = op.cost(a, list(shapes), expected)
        for f in dataclasses.fields(scalar):
            value = getattr(cost, f.name)
            value = int(value if isinstance(value, int) else value[i])
            assert value == getattr(scalar, f.name), (name, f.name, shapes)


WINDOW = st.fixed_dictionaries(
    {
        "kernel": st.tuples(st.integers(1, 7), st.integers(1, 7)),
        "stride": st.tuples(st.integers(1, 4), st.integers(1, 4)),
        "padding": st.tuples(st.integers(0, 3), st.integers(0, 3)),
        "dilation": st.tuples(st.integers(1, 3), st.integers(1, 3)),
    }
)


@settings(max_examples=60, deadline=None)
@given(WINDOW, SIZES, SIZES, st.sampled_from([1, 2, 4]))
def test_conv2d(w, hs, ws, groups):
    attrs = {**w, "out": 8, "groups": groups}
    check("conv2d", attrs, [[(8, h, x)] for h, x in zip(hs, ws, strict=False)])


@settings(max_examples=60, deadline=None)
@given(WINDOW, SIZES, SIZES, st.booleans(), st.booleans())
def test_pools(w, hs, ws, ceil, modulated):
    kernel = w["kernel"]
    padding = (min(w["padding"][0], kernel[0] // 2), min(w["padding"][1], kernel[1] // 2))
    points = [[(3, h, x)] for h, x in zip(hs, ws, strict=False)]
    base = {"kernel": kernel, "stride": w["stride"], "padding": padding, "ceil_mode": ceil}
    check("maxpool", {**base, "dilation": w["dilation"]}, points)
    check("avgpool", base, points)
    check("adaptive_avgpool", {"output": (3, 2)}, points)
    check("global_avgpool", {}, points)
    deform = {"out": 4, "kernel": kernel, "stride": w["stride"], "modulated": modulated}
    check("deform_conv2d", {**deform, "padding": w["padding"]}, points)


@settings(max_examples=40, deadline=None)
@given(SIZES, SIZES, st.integers(0, 2))
def test_merges(hs, ws, shift):
    # the second input is shifted at some points so the shapes disagree there
    points = [
        [(4, h, x), (4, h + (i % 3 == 0) * shift, x)]
        for i, (h, x) in enumerate(zip(hs, ws, strict=False))
    ]
    check("add", {}, points)
    check("concat", {}, points)
    gate = [[(4, h, x), (4, 1, 1)] for h, x in zip(hs, ws, strict=False)]
    check("multiply", {}, gate)
    check("multiply", {}, points)


@settings(max_examples=40, deadline=None)
@given(SIZES, SIZES)
def test_tensor_and_transformer_ops(hs, ws):
    chw = [[(12, h, x)] for h, x in zip(hs, ws, strict=False)]
    hwc = [[(h, x, 12)] for h, x in zip(hs, ws, strict=False)]
    tokens = [[(h * x, 12)] for h, x in zip(hs, ws, strict=False)]
    for name, attrs in (("flatten", {}), ("channel_split", {"parts": 2}), ("relu", {})):
        check(name, attrs, chw)
    check("channel_shuffle", {"groups": 3}, chw)
    check("batchnorm", {}, chw)
    check("lrn", {"size": 5}, chw)
    check("permute", {"dims": [0, 2, 3, 1]}, chw)
    check("layernorm", {"axis": "channels"}, chw)
    check("layer_scale", {}, hwc)
    check("patch_merge", {}, hwc)
    check("window_attention", {"heads": 3, "window": (7, 7), "shift": (3, 3)}, hwc)
    check("linear", {"out": 5}, tokens)
    check("class_token", {}, tokens)
    check("position_embedding", {}, tokens)
    check("select_token", {"index": 40}, tokens)
    check("multihead_attention", {"heads": 4}, tokens)


def test_an_op_without_a_vector_rule_runs_its_scalar_rule_per_point():
    # (an op another change adds before its vshape: exact, only slower)
    from cnncost.sweep import _scalar_vshape

    op = get_op("maxpool")
    a = {**op.defaults, "kernel": (3, 3), "stride": (2, 2), "ceil_mode": True}
    hs = np.array([1, 2, 3, 8, 33])
    out, bad = _scalar_vshape(op, a, [(4, hs, 17)], len(hs))
    want, want_bad = op.vshape(a, [(4, hs, 17)])
    assert bad.tolist() == np.asarray(want_bad).tolist() == [True, True, False, False, False]
    assert [int(d) for d in out[1][2:]] == [int(d) for d in want[1][2:]]
