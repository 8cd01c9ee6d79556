"""The device table: the built-in entries, a user's file laid over them, clear errors."""

from __future__ import annotations

import pytest

from cnncost.errors import CnnCostError
from cnncost.hardware import hardware_table, pick_hardware


def test_the_issue_asks_for_these_devices():
    table = hardware_table()
    for name in ("h100-sxm", "h200", "a100", "generic-cpu"):
        assert name in table
    h100 = table["h100-sxm"]
    # NVIDIA's H100 SXM datasheet: 989.4 dense BF16 TFLOPS (1,979 with sparsity), 3.35 TB/s.
    assert h100.peak("bf16") == pytest.approx(989.4e12)
    assert h100.bandwidth == pytest.approx(3.35e12)


@pytest.mark.parametrize(
    ("detected", "expected"),
    [
        ("NVIDIA H100 80GB HBM3", "h100-sxm"),
        ("NVIDIA H100 PCIe", "h100-pcie"),
        ("NVIDIA H200", "h200"),
        ("NVIDIA A100-SXM4-80GB", "a100"),
        (None, "generic-cpu"),
    ],
)
def test_the_detected_gpu_picks_its_entry(detected, expected):
    assert pick_hardware(None, hardware_table(), detected).name == expected


def test_an_unknown_gpu_asks_for_a_name():
    with pytest.raises(CnnCostError, match="--hardware-file"):
        pick_hardware(None, hardware_table(), "Some Future GPU")


def test_unknown_name_suggests(run):
    code, _out, err = run("roofline", "resnet18", "--hardware", "h100")
    assert code == 2
    assert "did you mean" in err and "h100-sxm" in err


def test_user_file_overrides_and_adds(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "devices:\n"
        "  a100:\n    peak_tflops: {fp32: 1}\n    vector_tflops: 1\n    bandwidth_gb_s: 1\n"
        "  laptop:\n    peak_tflops: {fp32: 0.5}\n    vector_tflops: 0.5\n"
        "    bandwidth_gb_s: 50\n"
    )
    table = hardware_table(str(path))
    assert table["a100"].peak("fp32") == 1e12
    assert table["laptop"].bandwidth == 50e9
    assert "h200" in table


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (
            "  x:\n    peak_tflops: {fp32: 1}\n    vector_tflops: 1\n    bandwith_gb_s: 1\n",
            5,
            "unknown key 'bandwith_gb_s' (did you mean 'bandwidth_gb_s'?)",
        ),
        (
            "  x:\n    peak_tflops: {fp23: 1}\n    vector_tflops: 1\n    bandwidth_gb_s: 1\n",
            3,
            "unknown dtype 'fp23'",
        ),
        (
            "  x:\n    peak_tflops: {fp32: -1}\n    vector_tflops: 1\n    bandwidth_gb_s: 1\n",
            3,
            "fp32 must be a positive number",
        ),
    ],
)
def test_bad_user_file_is_one_located_line(run, tmp_path, body, line, message):
    path = tmp_path / "bad.yaml"
    path.write_text("devices:\n" + body)
    code, out, err = run("hardware", "--hardware-file", str(path))
    assert code == 2
    assert out == ""
    assert err.startswith(f"cnncost: error: {path}:{line}: devices.x: ")
    assert message in err


def test_cli_hardware_lists_units(run):
    code, out, _err = run("hardware")
    assert code == 0
    assert "TFLOP/s" in out and "GB/s" in out and "h200" in out
