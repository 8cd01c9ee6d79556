"""Every table fits the width it is drawn at, and every number on it reads back as the
JSON value it stands for (compact units included, within the printed precision)."""

from __future__ import annotations

import json
import re
from fractions import Fraction

import pytest
from screen import agrees, check_numbers, screen_cells

import cnncost
from cnncost.render.layout import Column, Grid, Num, fit
from cnncost.render.tables import compare_grid, layer_grid

WIDTHS = (80, 100, 120, 160)


def _layer_values(layer: dict, totals: dict) -> dict[str, float | int]:
    values = {k: layer[k] for k in ("params", "macs", "elementwise", "activations")}
    values["activation_bytes"] = layer["activation_bytes"]
    for key in ("params", "macs", "activations"):
        values[f"{key}_pct"] = Fraction(100 * layer[key], totals[key]) if totals[key] else 0
    return values


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("model", ["vgg16", "googlenet", "resnet50"])
def test_layer_table_fits_and_reads_back_as_the_json(run, model, width):
    data = json.loads(run(model, "--format", "json")[1])
    fitted = fit(layer_grid(cnncost.analyze(model)), width)
    code, out, _ = run(model, "--table", "--width", str(width))
    assert code == 0 and out == fitted.text  # the CLI draws exactly this layout
    totals = data["totals"]
    expected = [_layer_values(layer, totals) for layer in data["layers"]]
    for layer, values in zip(data["layers"], expected, strict=True):
        values.update(rf=layer["receptive_field"][0], jump=layer["jump"][0])
        if not layer["train_only"]:
            values["depth"] = layer["depth"]
    expected.append({**_layer_values(totals, totals), "depth": totals["depth"]})
    assert check_numbers(fitted, width, expected) >= 3 * len(data["layers"]) - 3
    shown = {c.key for c in fitted.columns}
    assert {"layer", "params", "macs"} <= shown  # the essential columns never drop
    names = [row["layer"] for row in screen_cells(fitted, width)[:-1]]
    assert len(set(names)) == len(names)  # no two rows look alike


def test_at_80_columns_vgg16_keeps_exact_counts_and_says_what_it_left_out(run):
    code, out, _ = run("vgg16", "--table", "--width", "80")
    assert code == 0
    assert "15,470,264,320" in out and "138,357,544" in out
    assert "Left out to fit 80 columns" in out and "--columns" in out
    code, out, _ = run("vgg16", "--table", "--width", "80", "--columns", "layer,macs,rf")
    assert code == 0 and "Left out" not in out
    assert re.search(r"^fc8\s+4,096,000\s+404$", out, re.M)  # RF 404: 212 + (7 - 1) * 32


def test_a_too_narrow_width_switches_to_compact_units_and_says_so(run):
    keys = "layer,shape,params,macs,activation_bytes"
    code, out, _ = run("vgg16", "--table", "--width", "64", "--columns", keys)
    assert code == 0
    assert all(len(line) <= 64 for line in out.splitlines())
    assert "15.47 G" in out and "compact units" in out


def test_unknown_column_is_a_one_line_error(run):
    code, out, err = run("vgg16", "--table", "--columns", "layer,flops")
    assert code == 2 and out == "" and "unknown column 'flops'" in err


@pytest.mark.parametrize("width", WIDTHS)
def test_depth_view_totals_are_the_sums_of_the_layers(run, width):
    data = json.loads(run("resnet50", "--format", "json")[1])
    fitted = fit(layer_grid(cnncost.analyze("resnet50"), depth=1), width)
    rows = screen_cells(fitted, width)
    assert [r["group"] for r in rows] == [
        "input",
        "stem",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "head",
        "Total",
    ]
    # The stage of each layer, computed here from its name: layerN.* belongs to layerN,
    # the top-level layers before layer1 to the stem and after layer4 to the head.
    groups: dict[str, dict] = {}
    for i, layer in enumerate(data["layers"]):
        top = layer["name"].split(".")[0]
        key = "input" if i == 0 else top if top.startswith("layer") else None
        if key is None:
            key = "stem" if not any(g.startswith("layer") for g in groups) else "head"
        acc = groups.setdefault(key, {"params": 0, "macs": 0, "elementwise": 0})
        acc.update({k: acc.get(k, 0) + layer[k] for k in layer if isinstance(layer[k], int)})
    expected = [_layer_values(groups[r["group"]], data["totals"]) for r in rows[:-1]]
    expected.append(_layer_values(data["totals"], data["totals"]))
    assert check_numbers(fitted, width, expected) >= 3 * len(rows)


def test_sort_and_top_keep_the_heaviest_layers(run):
    data = json.loads(run("resnet50", "--format", "json")[1])
    code, out, _ = run("resnet50", "--sort", "params", "--top", "3", "--width", "120")
    assert code == 0
    heaviest = sorted(data["layers"], key=lambda layer: -layer["params"])[:3]
    body = out.split("─\n", 1)[1].splitlines()[:3]
    assert [line.split()[0] for line in body] == [layer["name"] for layer in heaviest]
    share = 100 * heaviest[0]["params"] / data["totals"]["params"]
    assert f"{share:.1f}%" in body[0]


@pytest.mark.parametrize("width", WIDTHS)
def test_compare_fits_and_reads_back(run, width):
    models = ["vgg16", "resnet50", "googlenet", "mobilenet_v2"]
    data = json.loads(run("compare", *models, "--format", "json")[1])
    fitted = fit(compare_grid([cnncost.analyze(m) for m in models]), width)
    assert run("compare", *models, "--width", str(width))[1] == fitted.text
    keys = ["params", "macs", "flops", "elementwise", "activations", "activation_bytes"]
    expected: list[dict] = [{}, {}]
    for key in keys:
        row = {f"m{i}": m["totals"][key] for i, m in enumerate(data["models"])}
        row.update(
            {f"ratio{i}": m["ratio_to_first"][key] for i, m in enumerate(data["models"]) if i}
        )
        expected.append(row)
    assert check_numbers(fitted, width, expected) >= 2 * len(keys)


@pytest.mark.parametrize("width", WIDTHS)
def test_list_fits_and_reads_back(run, width):
    from cnncost.render.plain import list_grid

    data = json.loads(run("list", "--format", "json")[1])
    reports = [cnncost.analyze(m["model"]) for m in data["models"]]
    fitted = fit(list_grid(reports), width)
    assert run("list", "--width", str(width))[1] == fitted.text
    expected = [{"params": m["params"], "macs": m["macs"]} for m in data["models"]]
    assert check_numbers(fitted, width, expected) == 2 * len(expected)
    names = [row["model"] for row in screen_cells(fitted, width)]
    assert names == [m["model"] for m in data["models"]]  # whole names, never 'alex…'


@pytest.mark.parametrize("width", WIDTHS)
def test_roofline_table_fits_and_reads_back(run, width):
    from cnncost.hardware import hardware_table
    from cnncost.render.measure import ROOFLINE_COLUMNS, ROOFLINE_NOTE, roofline_rows
    from cnncost.roofline import roofline

    args = ("roofline", "mobilenet_v2", "--hardware", "h100-sxm", "--dtype", "bf16")
    data = json.loads(run(*args, "--format", "json")[1])
    code, out, _ = run(*args, "--table", "--width", str(width))
    assert code == 0 and all(len(line) <= width for line in out.splitlines())
    rl = roofline(
        cnncost.analyze("mobilenet_v2", dtype="bf16"), hardware_table()["h100-sxm"], "bf16"
    )
    fitted = fit(Grid("Per layer", ROOFLINE_COLUMNS, roofline_rows(rl), note=ROOFLINE_NOTE), width)
    assert fitted.text in out
    expected = [
        {"flops": layer["flops"], "bytes": layer["bytes"], "predicted": layer["predicted_s"]}
        for layer in data["layers"]
    ]
    assert check_numbers(fitted, width, expected) >= 2 * len(expected)
    names = [row["layer"] for row in screen_cells(fitted, width)]
    assert len(set(names)) == len(names)  # 'features.0.conv…' never cut to look alike


@pytest.mark.parametrize("width", WIDTHS)
def test_audit_fits_and_reads_back(run, width):
    from cnncost.audit import audit
    from cnncost.render.audit import audit_grid

    data = json.loads(run("audit", "--format", "json")[1])
    code, out, _ = run("audit", "--width", str(width))
    verdicts = audit(None, None)
    fitted = fit(audit_grid(verdicts, verdicts), width)
    assert code == 0 and out == fitted.text
    cells = screen_cells(fitted, width)
    assert all(c["id"].startswith(r["claim"]) for r, c in zip(cells, data["claims"], strict=True))
    expected = [
        {"computed": c["computed"]} for c in data["claims"] if not isinstance(c["computed"], list)
    ]
    numbers = [
        r for r, c in zip(cells, data["claims"], strict=True) if not isinstance(c["computed"], list)
    ]
    shapes = [
        (r, c)
        for r, c in zip(cells, data["claims"], strict=True)
        if isinstance(c["computed"], list)
    ]
    for row, claim in shapes:  # a computed shape, e.g. an output size, as C×H×W
        assert row["computed"] == "×".join(str(d) for d in claim["computed"])
    checked = 0
    for row, values in zip(numbers, expected, strict=True):
        assert agrees(row["computed"], values["computed"]), (row, values)
        checked += 1
    assert checked == len(expected) > 200


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("args", [["ops"], ["ops", "conv2d"], ["hardware"]])
def test_reference_tables_fit(run, args, width):
    code, out, _ = run(*args, "--width", str(width))
    assert code == 0 and all(len(line) <= width for line in out.splitlines())


def test_names_fold_at_dots_and_numbers_never_wrap():
    grid = Grid(
        "",
        [Column("name", "Layer", "name", 0, 8), Column("n", "MACs", "number")],
        [["features.10.block.conv", Num("15,470,264,320", "15.47 G")]],
    )
    fitted = fit(grid, 24)
    lines = fitted.text.splitlines()
    assert all(len(line) <= 24 for line in lines)
    assert "15.47 G" in fitted.text and fitted.compact
    body = lines[2 : lines.index("")] if "" in lines else lines[2:]
    folded = "".join(line[: fitted.widths[0]].strip() for line in body)
    assert folded == "features.10.block.conv"  # folded, whole, not cut


def test_without_a_terminal_the_width_is_columns_or_100(run, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    out = run("vgg16", "--table")[1]
    assert max(len(line) for line in out.splitlines()) <= 100
    monkeypatch.setenv("COLUMNS", "160")
    out = run("vgg16", "--table")[1]
    assert 100 < max(len(line) for line in out.splitlines()) <= 160
    assert "Left out" not in run("vgg16", "--table", "--width", "0")[1]


def test_format_output_ignores_the_width(run):
    for fmt in ("json", "csv", "markdown"):
        assert run("vgg16", "--format", fmt)[1] == run("vgg16", "--format", fmt, "--width", "40")[1]
