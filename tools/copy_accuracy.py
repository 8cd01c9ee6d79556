"""Copy published ImageNet accuracies into the built-in specs, as `accuracy:` beside each
variant's `expected:` figures. Run by hand when the sources change:

    python tools/copy_accuracy.py PATH/TO/torchvision/models

- torchvision's own figures: each weights entry's meta "_metrics" → "ImageNet-1K" →
  "acc@1"/"acc@5", read from torchvision's source with `ast` (nothing is imported), for
  the weights a variant's `expected:` sources already name;
- elsewhere, the tables of the lecture decks in shared/seeds/ above the repository
  (seed 002's EfficientNet comparison table, top-1 and top-5; seed 003's top-5 error
  table), for the models listed in PAPER_ROWS and ERROR_ROWS.
A variant that already has `accuracy:` is left as it is.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = next(
    (p / "shared" / "seeds" for p in ROOT.parents if (p / "shared" / "seeds").is_dir()),
    ROOT / "shared" / "seeds",
)
# model → the row of seed 002's EfficientNet table (Tan & Le 2019, Table 2) it is
PAPER_ROWS = {
    "resnet50_v1": "ResNet-50 (He et al., 2016)",
    "resnet152_v1": "ResNet-152 (He et al., 2016)",
    "densenet264": "DenseNet-264 (Huang et al., 2017)",
    "xception": "Xception (Chollet, 2017)",
    "inception_v4": "Inception-v4 (Szegedy et al., 2017)",
    "inception_resnet_v2": "Inception-resnet-v2 (Szegedy et al., 2017)",
}
# model → the row of seed 003's "Classification performance" table (top-5 error)
ERROR_ROWS = {"alexnet_2012": "AlexNet", "googlenet_paper": "GoogleNet"}


def torchvision_metrics(models_dir: Path) -> dict[str, dict[str, float]]:
    """'ResNet50_Weights.IMAGENET1K_V1' → {'acc@1': 76.13, 'acc@5': 92.862}."""
    found: dict[str, dict[str, float]] = {}
    for path in sorted(models_dir.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            for stmt in cls.body:
                if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)):
                    continue
                meta = next((k.value for k in stmt.value.keywords if k.arg == "meta"), None)
                metrics = _key(meta, "_metrics")
                imagenet = _key(metrics, "ImageNet-1K")
                if imagenet is None:
                    continue
                name = f"{cls.name}.{stmt.targets[0].id}"
                found[name] = {}
                for acc in ("acc@1", "acc@5"):
                    value = _key(imagenet, acc)
                    if isinstance(value, ast.Constant):
                        found[name][acc] = value.value
    return found


def _key(node: ast.AST | None, key: str) -> ast.AST | None:
    if not isinstance(node, ast.Dict):
        return None
    for k, v in zip(node.keys, node.values, strict=True):
        if isinstance(k, ast.Constant) and k.value == key:
            return v
    return None


def seed_rows(file: str, header: str) -> dict[str, list[str]]:
    """The tab-separated rows of the table under `header` in a seed deck, by first cell."""
    lines = (SEEDS / file).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = {}
    for line in lines[start + 1 :]:
        if "\t" not in line:
            break
        cells = [re.sub(r"</?b>", "", c).strip() for c in line.split("\t")]
        rows[cells[0]] = cells[1:]
    return rows


def entries(model: str, weights: str | None, tv: dict, paper: dict, errors: dict) -> list[str]:
    if weights in tv:
        m = tv[weights]
        return [
            f'      {key}: {{value: {m[acc]}, source: "torchvision {weights} {acc} '
            f'(ImageNet-1K val, single crop)"}}'
            for key, acc in (("top1", "acc@1"), ("top5", "acc@5"))
            if acc in m
        ]
    if model in PAPER_ROWS:
        label = PAPER_ROWS[model]
        top1, top5 = (c.rstrip("%") for c in paper[label][:2])
        where = f"seed 002 EfficientNet table (Tan & Le 2019, Table 2), row '{label}'"
        return [
            f'      top1: {{value: {top1}, source: "{where}"}}',
            f'      top5: {{value: {top5}, source: "{where}"}}',
        ]
    if model in ERROR_ROWS:
        label = ERROR_ROWS[model]
        error = errors[label][1].rstrip("%")
        top5 = round(100 - float(error), 3)
        where = f"seed 003 classification table, row '{label}': top-5 error {error}%"
        return [f'      top5: {{value: {top5}, source: "{where}, so 100 − {error}"}}']
    return []


def with_accuracy(model: str | None, block: list[str], sources: tuple) -> list[str]:
    """A variant's lines, with `accuracy:` after its last line where it has none yet."""
    if model is None or any(line.startswith("    accuracy:") for line in block):
        return block
    hit = re.search(r"torchvision (\w+_Weights\.\w+)", "\n".join(block))
    new = entries(model, hit.group(1) if hit else None, *sources)
    if not new:
        return block
    end = max(i for i, line in enumerate(block) if line.strip()) + 1
    return [*block[:end], "    accuracy:", *new, *block[end:]]


def main(models_dir: str) -> None:
    sources = (
        torchvision_metrics(Path(models_dir)),
        seed_rows("002_7da1b3e570abce40.txt", "Model\tTop-1 Acc."),
        seed_rows("003_aaa9e73590bc30ce.txt", "CNN Architecture\tLayers\tTop-5 error"),
    )
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        out: list[str] = []
        in_variants, model, block = False, None, []
        for line in path.read_text(encoding="utf-8").splitlines():
            header = re.match(r"^  ([A-Za-z0-9_]+):\s*(#.*)?$", line)
            if re.match(r"^\S", line) or (in_variants and header):
                out += with_accuracy(model, block, sources)
                block = []
                model = header.group(1) if header and not re.match(r"^\S", line) else None
                if re.match(r"^\S", line):
                    in_variants = line.startswith("variants:")
            (block if model is not None else out).append(line)
        out += with_accuracy(model, block, sources)
        path.write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
