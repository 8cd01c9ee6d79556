"""Hostile and malformed input (issue 9): every case is refused with exit status 2, one line
on standard error naming the file (and line, where the case says), nothing on standard
output, no traceback, and within a time bound.

The corpus lives in tests/hostile/<kind>/, one file per case. Its first lines say what is
expected: `# expect: TEXT` (a fragment of the error), optionally `# args: ...` (the command,
with {file} for the case's path) and `# line: N` (the line the error must name). Cases run
in process through cnncost.cli.main; the ones that need a fresh process for a memory bound
run as subprocesses at the end.
"""

from __future__ import annotations

import os
import resource
import shlex
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import cnncost
from cnncost import CnnCostError
from cnncost.cli import main

CORPUS = Path(__file__).parent / "hostile"
REPO = Path(__file__).resolve().parent.parent
BOUND_S = 10.0  # generous: each case takes well under a second alone
COMMANDS = {
    "yaml": ["{file}", "--format", "json"],
    "spec": ["{file}", "--format", "json"],
    "claims": ["audit", "--claims", "{file}"],
    "hardware": ["hardware", "--hardware-file", "{file}"],
}


def _header(path: Path) -> dict[str, str]:
    fields = {}
    with path.open("rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8", "replace")
            if not line.startswith("# ") or ":" not in line:
                break
            key, _, value = line[2:].partition(":")
            fields[key.strip()] = value.strip()
    return fields


CASES = sorted(p for p in CORPUS.glob("*/*.yaml"))


def run_main(capsys, args: list[str]) -> tuple[int, str, str, float]:
    start = time.perf_counter()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    elapsed = time.perf_counter() - start
    out, err = capsys.readouterr()
    return code, out, err, elapsed


def assert_refused(code: int, out: str, err: str, elapsed: float, expect: str) -> str:
    assert code == 2, (code, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cnncost: error: ")
    assert "Traceback" not in err
    assert expect in lines[0], lines[0]
    assert len(lines[0]) < 400, "an error quotes only an excerpt"
    assert elapsed < BOUND_S
    return lines[0]


def test_corpus_is_large_and_covers_every_kind():
    kinds = {p.parent.name for p in CASES}
    assert kinds == set(COMMANDS)
    assert len(CASES) + len(CLI_CASES) + len(API_CASES) >= 150


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_corpus_case(capsys, path: Path):
    fields = _header(path)
    template = shlex.split(fields["args"]) if "args" in fields else COMMANDS[path.parent.name]
    shown = str(path)
    args = [a.replace("{file}", shown) for a in template]
    line = assert_refused(*run_main(capsys, args), fields["expect"])
    where = f"{shown}:{fields['line']}:" if "line" in fields else f"{shown}"
    assert where in line, line


# Command lines that must be refused: (arguments, a fragment of the error).
CLI_CASES = [
    (["alexnet", "--input", "3x" + "9" * 200 + "x4"], "not a shape like"),
    (["alexnet", "--input", "3x0x224"], "positive"),
    (["alexnet", "--input", "3x-1x224"], "not a shape like"),
    (["alexnet", "--input", "3xabcx224"], "not a shape like"),
    (["alexnet", "--input", ""], "not a shape like"),
    (["alexnet", "--input", "x"], "not a shape like"),
    (["alexnet", "--input", "3x224x"], "not a shape like"),
    (["alexnet", "--input", "3x²²⁴x224"], "not a shape like"),
    (["alexnet", "--input", "x".join(["2"] * 9)], "1 to 8 dimensions"),
    (["alexnet", "--input", "3x1000000000000x1000000000000"], "exceeds the limit"),
    (["alexnet", "--input", "3x1e200x1e200"], "not a shape like"),
    (["alexnet", "--batch", "0"], "--batch"),
    (["alexnet", "--batch", "-3"], "--batch"),
    (["alexnet", "--batch", "1" + "0" * 40], "--batch"),
    (["alexnet", "--batch", "2.5"], "--batch"),
    (["alexnet", "--format", "xml"], "--format"),
    (["alexnet", "--dtype", "fp128"], "--dtype"),
    (["alexnet", "--table", "--format", "json"], "disagree"),
    (["alexnet", "-o", ""], "-o needs a file name"),
    (["alexnet", "-o", "/proc/x"], "cannot write '/proc/x'"),
    (["alexnet", "-o", "/nonexistent-dir/x.txt"], "no such directory"),
    (["alexnet", "-o", "/"], "it is a directory"),
    (["alexnet", "-o", "/dev/null/x"], "no such directory"),
    (["alexnet", "--bogus"], "No such option"),
    (["alexnetz"], "unknown model"),
    (["a" * 5000], "characters)"),
    (["nothing.yaml"], "no such file"),
    (["./nothing"], "no such file"),
    (["/dev/zero"], "not a regular file"),
    (["/dev/null"], "not a regular file"),
    (["/tmp"], "is a directory"),
    (["/etc/shadow-not-there.yml"], "no such file"),
    (["specs/resnet.yaml:resnet999"], "no model 'resnet999'"),
    (["specs/resnet.yaml"], "several models"),
    (["show"], "Missing argument"),
    (["compare", "alexnet", "nothing-here"], "unknown model"),
    (["ops", "conv9d"], "conv9d"),
    (["audit", "--claims", "/dev/zero"], "not a regular file"),
    (["audit", "--claims", "/tmp"], "is a directory"),
    (["audit", "--claims", "missing.yaml"], "no such file"),
    (["audit", "--document", "001", "-o", "/proc/x"], "cannot write"),
    (["hardware", "--hardware-file", "/dev/zero"], "not a regular file"),
    (["hardware", "--hardware-file", "missing.yaml"], "no such file"),
    (["roofline", "alexnet", "--hardware", "nonesuch"], "unknown hardware"),
    (["roofline", "alexnet", "--hardware-file", "/dev/urandom"], "not a regular file"),
]


@pytest.mark.parametrize("args, expect", CLI_CASES, ids=lambda v: str(v)[:40])
def test_cli_case(capsys, monkeypatch, args, expect):
    monkeypatch.chdir(REPO)
    assert_refused(*run_main(capsys, args), expect)


def test_fifo_is_refused_without_blocking(capsys, tmp_path):
    fifo = tmp_path / "net.yaml"
    os.mkfifo(fifo)
    assert_refused(*run_main(capsys, [str(fifo)]), "not a regular file")


def test_file_over_the_size_limit_is_refused_before_reading(capsys, tmp_path):
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(5 * 1024 * 1024)  # sparse: 5 MB read would be slow; stat is instant
    line = assert_refused(*run_main(capsys, [str(big)]), "over the limit")
    assert str(big) in line


def test_unreadable_file(capsys, tmp_path):
    if os.geteuid() == 0:
        target = "/proc/1/mem.yaml"  # no such file, even for root
        assert_refused(*run_main(capsys, [target]), "no such file")
        return
    secret = tmp_path / "secret.yaml"
    secret.write_text("input: [3, 8, 8]\n")
    secret.chmod(0)
    assert_refused(*run_main(capsys, [str(secret)]), "cannot read")


def test_builtin_name_is_never_shadowed_by_a_file(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alexnet").write_text("input: [1]\nlayers: {x: {op: relu}}\n")
    code, out, _err, _ = run_main(capsys, ["alexnet", "--format", "json"])
    assert code == 0 and '"model": "alexnet"' in out


def test_claims_model_path_is_relative_to_the_claims_file(capsys, monkeypatch, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "net.yaml").write_text(
        "input: [3, 8, 8]\nlayers:\n  c: {op: conv2d, out: 4, kernel: 3}\n"
    )
    claims = tmp_path / "sub" / "claims.yaml"
    claims.write_text(
        'documents: {"d": {file: x, title: t}}\n'
        "claims:\n"
        "  - {id: a, document: d, value: 112, compute: {model: net.yaml, metric: params}}\n"
    )
    monkeypatch.chdir(tmp_path)  # not the claims file's folder
    code, _out, err, _ = run_main(capsys, ["audit", "--claims", str(claims)])
    assert code == 0, err  # 4 × 3 × 3 × 3 weights + 4 biases = 112


# -o: permissions, modes and links.
def test_output_file_gets_umask_permissions(capsys, tmp_path):
    target = tmp_path / "out.json"
    old = os.umask(0o022)
    try:
        code, *_ = run_main(capsys, ["alexnet", "--format", "json", "-o", str(target)])
    finally:
        os.umask(old)
    assert code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_output_keeps_an_existing_files_mode(capsys, tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    target.chmod(0o640)
    code, *_ = run_main(capsys, ["alexnet", "--format", "csv", "-o", str(target)])
    assert code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text().startswith("name,op")


def test_output_through_a_symlink_replaces_its_target(capsys, tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    code, *_ = run_main(capsys, ["alexnet", "-o", str(link)])
    assert code == 0
    assert link.is_symlink() and "AlexNet" in real.read_text()


# The Python API raises CnnCostError with the same messages.
API_CASES = [
    (dict(batch=-1), "batch must be from 1"),
    (dict(batch=0), "batch must be from 1"),
    (dict(batch=2.5), "batch must be an integer"),
    (dict(batch=True), "batch must be an integer"),
    (dict(batch="8"), "batch must be an integer"),
    (dict(batch=10**40), "batch must be from 1"),
    (dict(input_shape=(3, "224", 224)), "must hold integers"),
    (dict(input_shape=(3, -224, 224)), "positive integers"),
    (dict(input_shape=(3, 224.0, 224)), "must hold integers"),
    (dict(input_shape="3x224x224"), "must be a sequence"),
    (dict(input_shape=5), "must be a sequence"),
    (dict(input_shape=()), "1 to 8 dimensions"),
    (dict(input_shape=(3, 10**64, 10**64)), "exceeds the limit"),
    (dict(dtype="fp8"), "unknown dtype"),
    (dict(dtype=["fp32"]), "unknown dtype"),
]


@pytest.mark.parametrize("kwargs, expect", API_CASES, ids=lambda v: str(v)[:40])
def test_api_validates_its_arguments(kwargs, expect):
    with pytest.raises(CnnCostError, match=expect.replace("(", r"\(")):
        cnncost.analyze("alexnet", **kwargs)


@pytest.mark.parametrize("model", [None, 5, ["alexnet"], ""])
def test_api_refuses_a_model_that_is_not_text(model):
    with pytest.raises(CnnCostError, match="a model is a built-in name or a spec path"):
        cnncost.analyze(model)  # type: ignore[arg-type]


def test_api_layer_limit_is_an_argument_and_an_environment_variable(monkeypatch):
    with pytest.raises(CnnCostError, match="beyond 10 layers"):
        cnncost.build_graph("alexnet", max_layers=10)
    monkeypatch.setenv("CNNCOST_MAX_LAYERS", "12")
    with pytest.raises(CnnCostError, match="beyond 12 layers"):
        cnncost.build_graph("alexnet")
    monkeypatch.setenv("CNNCOST_MAX_LAYERS", "lots")
    with pytest.raises(CnnCostError, match="CNNCOST_MAX_LAYERS must be a positive integer"):
        cnncost.build_graph("alexnet")


# Bounded work, measured in a fresh process: time and memory.
def _bounded(args: list[str], cwd: Path, mem_bytes: int = 1 << 30) -> subprocess.CompletedProcess:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "cnncost", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit,
    )


@pytest.mark.parametrize(
    "name",
    [
        "spec/repeat_billion",
        "spec/nested_repeat_1000x1000",
        "spec/recursion_two_way",
        "spec/fan_out_chain",
        "yaml/alias_bomb_input",
        "yaml/deep_lists_1000",
    ],
)
def test_bombs_are_refused_quickly_in_little_memory(name):
    start = time.perf_counter()
    done = _bounded([str(CORPUS / f"{name}.yaml")], REPO, mem_bytes=1 << 30)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.splitlines()) == 1 and done.stdout == ""
    assert time.perf_counter() - start < 30


def test_adaptive_pool_with_a_huge_output_is_counted_in_closed_form(tmp_path):
    spec = tmp_path / "pool.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  p: {op: adaptive_avgpool, output: 100000000}\n")
    start = time.perf_counter()
    done = _bounded([str(spec), "--format", "json"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert time.perf_counter() - start < 30
    # Each axis: 8 + 10⁸ − gcd(8, 10⁸) = 100000000 window cells in all; times 3 channels.
    assert '"elementwise": 30000000000000000' in done.stdout
