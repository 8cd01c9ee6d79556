"""Text for `cnncost audit`: each claim beside its computed value and verdict."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from ..audit import Verdict
from .layout import Cell, Column, Grid, Num, count, draw, fit_paragraphs
from .plain import md_table

HEADER = ("Claim", "Doc", "Where", "Printed", "Computed", "Verdict")


def _computed(v: Verdict) -> str:
    x = v.computed
    if isinstance(x, tuple):
        return "×".join(str(d) for d in x)
    if x.denominator == 1:
        return f"{int(x):,}"
    return f"{float(x):,.4g}"


def _computed_cell(v: Verdict) -> Cell:
    """An integer is a number that may go compact; a shape or a fraction stays as it is."""
    x = v.computed
    if isinstance(x, tuple):
        return _computed(v)
    return count(int(x)) if x.denominator == 1 else Num(_computed(v))


def _rows(verdicts: Sequence[Verdict]) -> list[list[str]]:
    rows = []
    for v in verdicts:
        unit = v.claim.get("unit", "")
        value = v.claim["value"]
        if isinstance(value, list):
            value = "×".join(str(d) for d in value)
        printed = f"{value} {unit}".strip()
        verdict = v.label
        if v.outcome in ("close", "mismatch", "STALE"):
            verdict += ": " + str(v.claim.get("reason", ""))
        rows.append(
            [
                v.claim["id"],
                str(v.claim["document"]),
                v.claim.get("where", ""),
                printed,
                _computed(v),
                verdict,
            ]
        )
    return rows


def summary(verdicts: Sequence[Verdict]) -> str:
    counts = Counter(v.outcome for v in verdicts)
    explained = Counter(v.claim.get("kind") for v in verdicts if v.outcome == "mismatch")
    parts = [
        f"{len(verdicts)} claims",
        f"{counts['match']} match exactly",
        f"{counts['rounding']} match within the printed rounding",
        f"{counts['close']} are close (within one unit of the last digit) for a recorded reason",
        f"{counts['mismatch']} disagree for a recorded reason"
        + (
            " (" + ", ".join(f"{n} {k}" for k, n in sorted(explained.items())) + ")"
            if explained
            else ""
        ),
    ]
    failed = counts["MISMATCH"] + counts["STALE"]
    parts.append(f"{failed} fail" if failed else "none fail")
    return "; ".join(parts) + "."


COLUMNS = (
    Column("claim", "Claim", "name", 0, 16),
    Column("doc", "Doc", "fixed", 2),
    Column("where", "Where", "text", 1, 16),
    Column("printed", "Printed", "text", 0, 10),
    Column("computed", "Computed", "number"),
    Column("verdict", "Verdict", "text", 0, 16),
)


def audit_grid(shown: Sequence[Verdict], verdicts: Sequence[Verdict]) -> Grid:
    rows: list[list[Cell]] = [list(r) for r in _rows(shown)]
    for row, v in zip(rows, shown, strict=True):
        row[4] = _computed_cell(v)
    return Grid(
        "Numeric claims of the documents, computed",
        COLUMNS,
        rows,
        note=summary(verdicts)
        + " Units as printed in each document: 'ops', 'FLOPs' and 'MAdds' there all mean "
        "multiply-accumulates (MACs).",
    )


def audit_table(shown: Sequence[Verdict], verdicts: Sequence[Verdict]) -> str:
    if verdicts and not shown:  # --failures-only, and none fails: no empty table
        return fit_paragraphs(f"No claim fails.\n\n{summary(verdicts)}") + "\n"
    return draw(audit_grid(shown, verdicts))


def audit_markdown(shown: Sequence[Verdict], verdicts: Sequence[Verdict]) -> str:
    if verdicts and not shown:  # --failures-only, and none fails: no empty table
        return f"No claim fails.\n\n{summary(verdicts)}\n"
    return md_table(HEADER, _rows(shown), right={3, 4}) + "\n" + summary(verdicts) + "\n"


def audit_json(shown: Sequence[Verdict], verdicts: Sequence[Verdict]) -> str:
    counts = Counter(v.outcome for v in verdicts)
    data = {
        "schema": "cnncost.audit/1",
        "summary": {
            k: counts.get(k, 0)
            for k in ("match", "rounding", "close", "mismatch", "MISMATCH", "STALE")
        },
        "ok": not any(v.failed for v in verdicts),
        "claims": [v.to_dict() for v in shown],
    }
    return json.dumps(data, indent=2) + "\n"
