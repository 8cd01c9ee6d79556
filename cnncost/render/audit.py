"""Text for `cnncost audit`: each claim beside its computed value and verdict."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from ..audit import Verdict
from .plain import md_table

HEADER = ("Claim", "Doc", "Where", "Printed", "Computed", "Verdict")


def _computed(v: Verdict) -> str:
    x = v.computed
    if isinstance(x, tuple):
        return "×".join(str(d) for d in x)
    if x.denominator == 1:
        return f"{int(x):,}"
    return f"{float(x):,.4g}"


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


def audit_table(shown: Sequence[Verdict], verdicts: Sequence[Verdict]) -> str:
    from .tables import grid

    return grid(
        "Numeric claims of the documents, computed",
        HEADER,
        _rows(shown),
        right={3, 4},
        note=summary(verdicts)
        + " Units as printed in each document: 'ops', 'FLOPs' and 'MAdds' there all mean "
        "multiply-accumulates (MACs).",
    )


def audit_markdown(shown: Sequence[Verdict], verdicts: Sequence[Verdict]) -> str:
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
