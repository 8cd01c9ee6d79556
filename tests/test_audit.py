"""cnncost audit: verdicts on a small claims file, located errors, and the decks' own
claims (the CI assertion of textbook numbers)."""

from __future__ import annotations

import json

import pytest

from cnncost.audit import audit, printed_figure

CLAIMS = """
documents:
  "001": {file: 001_ac4ff629818df0b6.txt, title: CNN Backbone Architectures}
claims:
  - id: vgg16-params
    document: "001"
    where: VGG16 table, TOTAL
    text: "TOTAL params: 138M parameters"
    value: 138M
    compute: {model: vgg16, metric: params}
  - id: conv1-1-params
    document: "001"
    where: VGG16 table, CONV3-64
    text: "params: (3*3*3)*64 = 1,728"
    value: 1728
    compute: {model: vgg16, metric: weights, layer: stage1.conv.0.conv}
  - id: vgg16-memory
    document: "001"
    where: VGG16 table, TOTAL memory
    text: "TOTAL memory: 24M * 4 bytes ~= 96MB / image"
    value: 24M
    compute: {model: vgg16_paper, metric: activations}
    expect: mismatch
    kind: slip
    reason: the rows sum to 15,237,608
  - id: three-3x3
    document: "001"
    where: VGG, stacking 3x3
    text: three 3x3 conv layers have the receptive field of one 7x7
    value: 7
    compute:
      spec: |
        name: stack
        input: [1, 16, 16]
        layers:
          c: {op: conv2d, out: 1, kernel: 3, padding: 1, repeat: 3}
      metric: receptive_field
      layer: c.2
  - id: params-per-c2
    document: "001"
    where: VGG, stacking 3x3
    text: "3·(3²C²) parameters"
    value: 27
    compute:
      spec: |
        name: stack
        input: [64, 8, 8]
        layers:
          c: {op: conv2d, out: 64, kernel: 3, padding: 1, bias: false, repeat: 3}
      metric: params
      divide_by: 4096
  - id: vgg-vs-resnet
    document: "001"
    where: made up for the test
    text: VGG16 has 5.4× the parameters of ResNet-50
    value: "5.4"
    compute: {model: vgg16, metric: params}
    ratio_to: {model: resnet50, metric: params}
"""


@pytest.fixture
def claims(tmp_path):
    def write(text: str = CLAIMS) -> str:
        path = tmp_path / "claims.yaml"
        path.write_text(text)
        return str(path)

    return write


def test_printed_figures():
    assert printed_figure("15.5 G") == (15_500_000_000, 100_000_000)
    assert printed_figure("1,728") == (1728, 1)
    assert printed_figure("854M") == (854_000_000, 1_000_000)


def test_verdicts(claims):
    verdicts = {v.claim["id"]: v for v in audit(claims())}
    assert verdicts["vgg16-params"].outcome == "rounding"  # 138,357,544 prints as 138M
    assert verdicts["conv1-1-params"].outcome == "match"
    assert verdicts["vgg16-memory"].outcome == "mismatch"
    assert verdicts["vgg16-memory"].computed == 15_237_608  # the rows of seed 001's table
    assert verdicts["three-3x3"].outcome == "match"
    assert verdicts["params-per-c2"].computed == 27
    # 138,357,544 / 25,557,032 = 5.41…
    assert verdicts["vgg-vs-resnet"].outcome == "rounding"
    assert not any(v.failed for v in verdicts.values())


def test_an_unexplained_mismatch_fails_and_a_stale_reason_too(claims, run):
    text = CLAIMS.replace("value: 138M", "value: 140M")
    code, out, _ = run("audit", "--claims", claims(text))
    assert code == 1
    assert "MISMATCH" in out
    text = CLAIMS.replace("value: 24M", "value: 15.2M")
    code, out, _ = run("audit", "--claims", claims(text), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["summary"]["STALE"] == 1 and data["ok"] is False


def test_cli_audit_passes_on_good_claims(claims, run):
    code, out, err = run("audit", "--claims", claims())
    assert code == 0, err
    assert "6 claims" in out and "1 disagree for a recorded reason (1 slip)" in out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("metric: params}", "metric: parms}"), "unknown metric 'parms' (did you mean 'params'"),
        (
            ("layer: stage1.conv.0.conv", "layer: stage1.conv.9.conv"),
            "vgg16 has no layer 'stage1.conv.9.conv'",
        ),
        (("reason: the rows sum to 15,237,608", "why: x"), "unknown key 'why'"),
        (
            ('document: "001"\n    where: VGG16 table, TOTAL\n', 'document: "009"\n    where: x\n'),
            "document '009' is not listed",
        ),
        (
            ("{model: vgg16, metric: params}", "{model: vgg61, metric: params}"),
            "unknown model 'vgg61'",
        ),
    ],
)
def test_bad_claims_are_one_located_line(claims, run, change, message):
    path = claims(CLAIMS.replace(*change, 1))
    code, out, err = run("audit", "--claims", path)
    assert code == 2
    assert out == ""
    assert err.startswith(f"cnncost: error: {path}:") and message in err
    assert err.count("\n") == 1


def test_the_documents_claims_all_hold_or_are_explained(run):
    """The CI assertion of textbook numbers: every claim of the lecture decks matches, or
    disagrees for a reason recorded in cnncost/claims/seeds.yaml."""
    code, out, err = run("audit", "--format", "json")
    data = json.loads(out)
    failures = [c for c in data["claims"] if c["verdict"] in ("MISMATCH", "STALE")]
    assert failures == [] and code == 0, err
    documents = {c["document"] for c in data["claims"]}
    assert documents >= {"001", "002"}
    assert len(data["claims"]) >= 50
