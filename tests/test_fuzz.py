"""Fuzzing (issue 9): random specs and mutated built-in specs. Whatever the input, only
CnnCostError may escape, and a model that is analysed obeys the counting invariants:
FLOPs = 2 × MACs, totals = the sum of the rows, every count a non-negative integer, the
same result on a second run, and exact scaling with the batch.

A few thousand examples run by default (derandomised, so CI is repeatable); set
CNNCOST_FUZZ_EXAMPLES=N to run N examples per test with fresh random seeds, e.g.
`CNNCOST_FUZZ_EXAMPLES=50000 python -m pytest tests/test_fuzz.py -q`.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncost import CnnCostError
from cnncost.build import build
from cnncost.report import Report, analyze_graph
from cnncost.spec import loads_spec

ASKED = os.environ.get("CNNCOST_FUZZ_EXAMPLES")
FUZZ = settings(
    max_examples=int(ASKED) if ASKED else 1500,
    derandomize=not ASKED,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
SPECS = Path(__file__).resolve().parent.parent / "specs"
SMALL_SPECS = ["inception_module.yaml", "zfnet.yaml", "alexnet.yaml", "vgg.yaml", "squeezenet.yaml"]

# Values an attribute may be given: sensible ones, odd ones, and wrong ones.
NUMBERS = st.one_of(
    st.integers(-3, 70),
    st.sampled_from([0, 1, 2, 3, 193, 257, 10**15, 10**16, -(10**9)]),
    st.floats(allow_nan=True, allow_infinity=True),
)
EXPRESSIONS = st.sampled_from(
    [
        "in_channels",
        "in_channels * 2",
        "in_height // 2",
        "in_width - 1",
        "max(1, in_channels // 4)",
        "make_divisible(in_channels * 1.5)",
        "2 ** 10",
        "1 / 0",
        "undefined_name",
        "[1, 2][3]",
        "round(in_height / 3)",
        "len(in_shape)",
        "in_shape",
        "'text'",
        "true",
    ]
)
SENSIBLE = st.integers(1, 8)
VALUES = st.one_of(  # sensible values three times as likely as each odd kind
    SENSIBLE,
    SENSIBLE,
    SENSIBLE,
    NUMBERS,
    EXPRESSIONS,
    st.lists(st.integers(0, 9), max_size=3),
    st.booleans(),
    st.sampled_from(["same", "valid", "relu", None]),
    st.text(max_size=8),
)
OPS = {
    "conv2d": ["out", "kernel", "stride", "padding", "groups", "dilation", "bias"],
    "maxpool": ["kernel", "stride", "padding", "ceil_mode"],
    "avgpool": ["kernel", "stride", "padding"],
    "batchnorm": [],
    "relu": ["inplace"],
    "linear": ["out", "bias"],
    "flatten": [],
    "global_avgpool": [],
    "adaptive_avgpool": ["output"],
    "dropout": [],
    "add": [],
    "concat": [],
    "conv_transpose2d": ["out", "kernel", "stride", "padding", "output_padding", "dilation"],
    "upsample": ["scale", "size", "mode", "align_corners"],
}


@st.composite
def layer(draw, names: list[str]) -> dict:
    op = draw(st.sampled_from(sorted(OPS)))
    entry: dict = {"op": op}
    if op in ("conv2d", "conv_transpose2d"):
        entry["out"] = draw(SENSIBLE)
    if op == "conv_transpose2d":
        entry["kernel"] = draw(SENSIBLE)
    if op == "upsample":
        entry["scale"] = draw(st.integers(1, 3))
    wrong = draw(st.integers(0, 19)) == 0  # now and then an attribute the op lacks
    for attr in draw(st.lists(st.sampled_from(OPS[op] or ["bogus"]), max_size=3, unique=True)):
        if OPS[op] or wrong:
            entry[attr] = draw(VALUES)
    if op in ("add", "concat") or draw(st.integers(0, 9)) == 0:
        pool = ["input", *names] if names else ["input"]
        low = 2 if op in ("add", "concat") and draw(st.integers(0, 9)) else 1
        entry["from"] = draw(st.lists(st.sampled_from(pool), min_size=low, max_size=3))
    if draw(st.integers(0, 7)) == 0:
        entry["repeat"] = draw(st.one_of(st.integers(-1, 4), EXPRESSIONS))
    if draw(st.integers(0, 15)) == 0:
        entry["if"] = draw(st.sampled_from(["in_channels > 8", "true", "false", "maybe"]))
    return entry


@st.composite
def spec_text(draw) -> str:
    """A random spec: an input, a few layers, sometimes a block, as YAML text."""
    input_shape = draw(
        st.one_of(
            st.lists(st.integers(1, 64), min_size=3, max_size=3),
            st.lists(st.integers(-2, 300), min_size=1, max_size=4),
        )
    )
    layers: dict = {}
    for i in range(draw(st.integers(1, 6))):
        layers[f"l{i}"] = draw(layer(list(layers)))
    data: dict = {"name": "fuzz", "input": input_shape, "layers": layers}
    if draw(st.booleans()):
        data["batch"] = draw(st.one_of(st.integers(-1, 9), st.just("2 * 2")))
    if draw(st.integers(0, 3)) == 0:
        inner = {f"b{i}": draw(layer([])) for i in range(draw(st.integers(1, 3)))}
        data["blocks"] = {"unit": {"params": {"k": draw(VALUES)}, "layers": inner}}
        data["layers"][f"l{len(layers)}"] = {"block": "unit", "repeat": draw(st.integers(0, 3))}
    return yaml.safe_dump(data, sort_keys=False)


def check_invariants(first: Report, again: Report, scaled: Report, factor: int) -> None:
    layers = first.inference_layers
    totals = first.totals
    assert totals.flops == 2 * totals.macs
    for name in ("macs", "elementwise", "activations", "weights", "biases", "buffers"):
        assert getattr(totals, name) == sum(getattr(r, name) for r in layers), name
    for r in first.layers:
        for value in (r.weights, r.biases, r.buffers, r.macs, r.elementwise, r.activations):
            assert isinstance(value, int) and not isinstance(value, bool) and value >= 0
    assert first.to_dict() == again.to_dict()
    assert scaled.totals.params == totals.params
    assert scaled.totals.macs == factor * totals.macs
    assert scaled.totals.activations == factor * totals.activations
    assert scaled.totals.elementwise == factor * totals.elementwise


def analyse_or_refuse(text: str, variant: str | None = None) -> None:
    """Analyse `text`; a refusal must be CnnCostError, a success must obey the invariants."""
    try:
        spec = loads_spec(text, "fuzz.yaml")
        graph = build(spec, variant)
        first = analyze_graph(graph)
        again = analyze_graph(build(spec, variant))
        factor = 3
        scaled = analyze_graph(build(spec, variant, batch=graph.batch * factor))
    except CnnCostError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    check_invariants(first, again, scaled, factor)


@FUZZ
@given(spec_text())
def test_random_specs_refuse_cleanly_or_obey_the_invariants(text: str) -> None:
    analyse_or_refuse(text)


@st.composite
def mutated(draw) -> tuple[str, str | None]:
    """A small built-in spec with a few random edits: characters deleted, inserted or
    replaced, lines duplicated, dropped or swapped."""
    name = draw(st.sampled_from(SMALL_SPECS))
    text = (SPECS / name).read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 4))
        at = draw(st.integers(0, max(0, len(text) - 1)))
        if kind == 0:
            text = text[:at] + text[at + 1 :]
        elif kind == 1:
            text = (
                text[:at]
                + draw(st.sampled_from(list("0123456789[]{}:,-*&!'\" x\n\t#|>")))
                + text[at:]
            )
        elif kind == 2:
            token = draw(
                st.sampled_from(["999999", "-1", "0", "1e9", "null", "[]", "{}", "*a", "&a"])
            )
            text = text[:at] + token + text[at + 1 :]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if kind == 3:
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    variant = draw(st.sampled_from([None, "vgg11", "zfnet", "alexnet", "squeezenet1_0"]))
    return text, variant


@FUZZ
@given(mutated())
def test_mutated_specs_refuse_cleanly_or_obey_the_invariants(case: tuple[str, str | None]) -> None:
    text, variant = case
    try:
        spec = loads_spec(text, "fuzz.yaml", "fuzz")
        names = spec.model_names()
    except CnnCostError:
        return
    if variant not in names:
        variant = names[0] if spec.variants else None
    analyse_or_refuse(text, variant)
