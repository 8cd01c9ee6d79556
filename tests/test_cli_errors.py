"""Bad input: one line on stderr naming file, line and layer path; exit status 2; nothing on
stdout; no traceback; no half-written output file."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest


def spec_file(tmp_path: Path, text: str) -> tuple[Path, dict[str, int]]:
    """Write a spec; lines carrying '# <name>' markers are returned by name (1-based)."""
    text = textwrap.dedent(text).lstrip("\n")
    marks = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if "# <" in line:
            marks[line.split("# <", 1)[1].rstrip(">").strip()] = number
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    return path, marks


def assert_one_line_error(result, *needles: str) -> str:
    code, out, err = result
    assert code == 2, (code, out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cnncost: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


CASES = {
    "add with mismatched channels": (
        """
        input: [3, 32, 32]
        layers:
          a: {op: conv2d, out: 8, kernel: 3, padding: 1}
          b: {op: conv2d, out: 16, kernel: 3, padding: 1, from: input}
          sum: {op: add, from: [a, b]}  # <here>
        """,
        "sum",
        ["equal shapes", "8×32×32", "16×32×32"],
    ),
    "concat with mismatched sizes": (
        """
        input: [3, 32, 32]
        blocks:
          pair:
            params: []
            layers:
              left: {op: conv2d, out: 4, kernel: 1}
              right: {op: conv2d, out: 4, kernel: 3, stride: 2, padding: 1, from: input}
              cat: {op: concat, from: [left, right]}  # <here>
        layers:
          unit: {block: pair}
        """,
        "unit.cat",
        ["concat", "4×32×32", "4×16×16"],
    ),
    "spatial size collapsing to zero": (
        """
        input: [3, 8, 8]
        layers:
          conv1: {op: conv2d, out: 8, kernel: 3, stride: 2}
          conv2: {op: conv2d, out: 8, kernel: 5}  # <here>
        """,
        "conv2",
        ["collapses to zero", "kernel 5"],
    ),
    "reference to an undefined layer": (
        """
        input: [3, 8, 8]
        layers:
          conv2: {op: conv2d, out: 8, kernel: 1}
          relu: {op: relu, from: conv3}  # <here>
        """,
        "relu",
        ["'conv3'", "did you mean 'conv2'"],
    ),
    "a cycle": (
        """
        input: [3, 8, 8]
        layers:
          a: {op: relu, from: c}  # <here>
          b: {op: relu, from: a}
          c: {op: relu, from: b}
        """,
        "a",
        ["cycle", "a → c → b → a"],
    ),
    "a block recursing without end": (
        """
        input: [3, 8, 8]
        blocks:
          forever:
            params: []
            layers:
              conv: {op: conv2d, out: 3, kernel: 1}
              again: {block: forever}  # <here>
        layers:
          body: {block: forever}
        """,
        "body",
        ["recurses without end", "forever → forever"],
    ),
    "a wrong attribute type (flag)": (
        """
        input: [3, 8, 8]
        layers:
          conv: {op: conv2d, out: 8, kernel: 3, bias: 3}  # <here>
        """,
        "conv",
        ["bias", "expected true or false, got 3"],
    ),
    "a wrong attribute type (word for a number)": (
        """
        input: [3, 8, 8]
        layers:
          conv:
            op: conv2d
            out: 8
            kernel: three  # <here>
        """,
        "conv",
        ["kernel", "undefined name 'three'"],
    ),
    "a fractional channel count": (
        """
        input: [3, 8, 8]
        layers:
          conv: {op: conv2d, out: 10 / 4, kernel: 1}  # <here>
        """,
        "conv",
        ["out", "expected an integer, got 2.5"],
    ),
    "an unknown op": (
        """
        input: [3, 8, 8]
        layers:
          conv: {op: conv2, out: 8, kernel: 1}  # <here>
        """,
        "conv",
        ["unknown op 'conv2'", "did you mean 'conv2d'"],
    ),
    "an unknown attribute": (
        """
        input: [3, 8, 8]
        layers:
          conv: {op: conv2d, out: 8, kernal: 3}  # <here>
        """,
        "conv",
        ["no attribute 'kernal'", "did you mean 'kernel'"],
    ),
    "a missing attribute": (
        """
        input: [3, 8, 8]
        layers:
          conv: {op: conv2d, out: 8}  # <here>
        """,
        "conv",
        ["needs attribute 'kernel'"],
    ),
    "an unknown block parameter": (
        """
        input: [3, 8, 8]
        blocks:
          unit:
            params: {width: 8}
            layers:
              conv: {op: conv2d, out: width, kernel: 1}
        layers:
          u: {block: unit, widht: 4}  # <here>
        """,
        "u",
        ["no parameter 'widht'", "did you mean 'width'"],
    ),
    "an unknown block": (
        """
        input: [3, 8, 8]
        blocks:
          bottleneck:
            params: []
            layers:
              conv: {op: conv2d, out: 8, kernel: 1}
        layers:
          u: {block: botleneck}  # <here>
        """,
        "u",
        ["unknown block 'botleneck'", "did you mean 'bottleneck'"],
    ),
    "an unknown key in the spec": (
        """
        input: [3, 8, 8]
        layer:  # <here>
          conv: {op: conv2d, out: 8, kernel: 1}
        layers:
          conv: {op: conv2d, out: 8, kernel: 1}
        """,
        None,
        ["unknown key 'layer'", "did you mean 'layers'"],
    ),
    "invalid YAML": (
        """
        input: [3, 8, 8]
        layers:
          conv: {op: conv2d, out: 8, kernel: 1
          relu: {op: relu}  # <here>
        """,
        None,
        ["invalid YAML"],
    ),
    "an expression that tries to escape": (
        """
        input: [3, 8, 8]
        layers:
          conv: {op: conv2d, out: "__import__('os').getpid()", kernel: 1}  # <here>
        """,
        "conv",
        ["method calls ('.getpid()') are not allowed"],
    ),
    "attribute access in an expression": (
        """
        input: [3, 8, 8]
        params: {width: 8}
        layers:
          conv: {op: conv2d, out: width.real, kernel: 1}  # <here>
        """,
        "conv",
        ["attribute access"],
    ),
    "a block given two inputs": (
        """
        input: [3, 8, 8]
        blocks:
          unit:
            params: []
            layers:
              conv: {op: conv2d, out: 8, kernel: 1}
        layers:
          a: {op: relu}
          u: {block: unit, from: [input, a]}  # <here>
        """,
        "u",
        ["one input"],
    ),
    "a table row of the wrong width": (
        """
        input: [3, 8, 8]
        layers:
          convs:
            op: conv2d
            kernel: 1
            table:
              columns: [out, stride]
              rows:
                - [8, 1]
                - [16]  # <here>
        """,
        "convs",
        ["a row needs 2 values (out, stride), got 1"],
    ),
    "'first' without 'repeat'": (
        """
        input: [3, 8, 8]
        layers:
          conv:
            op: conv2d
            out: 8
            kernel: 1
            first: {stride: 2}  # <here>
        """,
        "conv",
        ["'first' needs 'repeat'"],
    ),
    "an empty layers mapping": (
        """
        input: [3, 8, 8]
        layers: {}  # <here>
        """,
        None,
        ["'layers' is empty"],
    ),
    "a from that is not a name": (
        """
        input: [3, 8, 8]
        layers:
          a: {op: relu, from: 3}  # <here>
        """,
        "a",
        ["'from' must name layers"],
    ),
    "a layer named input": (
        """
        input: [3, 8, 8]
        layers:
          input: {op: relu}  # <here>
        """,
        None,
        ["reserved"],
    ),
    "a switched-off layer named in from": (
        """
        input: [3, 8, 8]
        params: {project: false}
        layers:
          body: {op: conv2d, out: 3, kernel: 3, padding: 1}
          shortcut: {if: project, op: conv2d, out: 3, kernel: 1, from: input}
          sum: {op: add, from: [body, shortcut]}  # <here>
        """,
        "sum",
        ["'from' names 'shortcut', which is switched off", "'else: identity'"],
    ),
    "in_channels inside inline layers with another input": (
        """
        input: [3, 8, 8]
        layers:
          conv: {op: conv2d, out: 16, kernel: 1}
          se:
            layers:
              pool: {op: global_avgpool}
              fc1: {op: conv2d, out: in_channels // 4, kernel: 1}  # <here>
        """,
        "se.fc1",
        ["in_channels is ambiguous", "3 for the enclosing block's input but 16"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_spec_gives_a_located_one_line_error(run, tmp_path, case):
    text, path, needles = CASES[case]
    file, marks = spec_file(tmp_path, text)
    where = f"{file}:{marks['here']}: "
    line = assert_one_line_error(run(str(file)), where, *needles)
    if path is not None:
        assert f"{where}{path}: " in line


def test_unknown_model_name_suggests_close_ones(run):
    line = assert_one_line_error(run("resnet5"), "unknown model 'resnet5'", "did you mean")
    assert "'resnet50'" in line


def test_missing_file(run, tmp_path):
    missing = tmp_path / "nope.yaml"
    assert_one_line_error(run(str(missing)), f"{missing}: no such file")


def test_variant_must_be_named_when_a_file_has_several(run, tmp_path):
    file, _ = spec_file(
        tmp_path,
        """
        input: [3, 8, 8]
        params: {w: 4}
        layers:
          conv: {op: conv2d, out: w, kernel: 1}
        variants:
          small: {args: {w: 2}}
          big: {args: {w: 8}}
        """,
    )
    assert_one_line_error(run(str(file)), "several models", f"{file}:small")
    assert_one_line_error(run(f"{file}:huge"), "no model 'huge'")
    code, out, _ = run(f"{file}:big", "--format", "json")
    assert code == 0 and '"model": "big"' in out


@pytest.mark.parametrize("bad", ["3x-1x4", "threexfour", "0x4x4"])
def test_bad_input_option(run, bad):
    code, out, err = run("vgg16", "--input", bad)
    assert code == 2 and out == ""
    assert "not a shape like 3x224x224" in err and "Traceback" not in err


def test_input_too_small_for_the_model_names_the_layer(run):
    line = assert_one_line_error(run("vgg16", "--input", "3x16x16"), "collapses to zero")
    # named as the built-in it is, not by a path an installed copy does not have
    assert re.search(r"vgg16 \(built-in vgg\.yaml:\d+\): ", line) and "stage5" in line
    assert "specs/" not in line


def test_an_error_writes_no_output_file(run, tmp_path):
    target = tmp_path / "out.json"
    file, _ = spec_file(
        tmp_path,
        """
        input: [3, 8, 8]
        layers:
          conv: {op: conv2d, out: 8, kernel: 9}  # <here>
        """,
    )
    assert_one_line_error(run(str(file), "--format", "json", "-o", str(target)), "collapses")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [file]


def test_a_reader_that_stops_early_ends_the_output_quietly(tmp_path):
    """`cnncost big.yaml --format json | head`: the JSON is written in pieces, so the
    reader leaves mid-report; the command stops with status 0 and nothing on stderr."""
    import subprocess
    import sys

    spec = tmp_path / "long.yaml"
    spec.write_text(
        "name: long\ninput: [2, 5, 7]\nblocks:\n  unit:\n    layers:\n"
        "      conv: {op: conv2d, out: 2, kernel: 3, padding: 1}\n      relu: {op: relu}\n"
        "layers:\n  body: {block: unit, repeat: 20000}\n",
        encoding="utf-8",
    )
    for fmt in ("json", "csv"):
        child = subprocess.Popen(
            [sys.executable, "-m", "cnncost", str(spec), "--format", fmt],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert child.stdout is not None and child.stderr is not None
        assert len(child.stdout.read(100)) == 100
        child.stdout.close()  # the reader goes away with most of the report unread
        err = child.stderr.read()
        assert child.wait(timeout=60) == 0, err
        assert err == b""
