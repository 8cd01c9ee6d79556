"""How cost grows: one model over many input sizes, batches, spec parameters or compound-
scaling steps, with the growth exponent fitted against each swept axis.

A size sweep builds the layer graph once and propagates the shapes and costs of every
size at once with numpy arrays (each op's ``vshape`` rule, and its cost rule, which is
array-safe). The build records which layers' shapes its expressions
read (``in_height``, ``in_channels``, ...); points where one of those differs from the
build's form a further pass with a template of their own, and points where an op cannot
run are counted by the scalar path, so that every point equals ``cnncost.analyze`` at
that size exactly (docs/sweep.md). Sums are int64, checked against a
float64 run of the same propagation; where a total nears 2⁶³ the sweep redoes the sizes
with Python integers (numpy object arrays). numpy is imported here only, never on the
analytic path. docs/output.md documents the result's JSON form.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, cast

import numpy as np

from .build import build
from .errors import CnnCostError, ShapeError, SpecError, did_you_mean
from .expr import shape_reads
from .graph import Graph
from .ops import Shape
from .report import DTYPE_BYTES, analyze_graph
from .spec import INPUT_NAME, Spec
from .training import TrainOptions
from .zoo import builtin_model, resolve

SCHEMA = "cnncost.sweep/1"
# Per-sample sums the propagation keeps; a new per-layer quantity (the training memory of
# the training issue, say) is one more name here and one more field in Point.
SUMS = ("weights", "biases", "macs", "activations")
# With --train, each point also carries these totals of one training step (TrainTotals).
TRAIN_FIELDS = ("backward_macs", "saved_activation_bytes", "train_peak_bytes")
_SAFE = 2**62  # int64 totals below this are exact (see _exact_sums)

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its input, batch and spec settings, and its totals (or the
    one-line error the single run gives there)."""

    input: Shape
    batch: int
    settings: dict[str, Any]
    params: int | None = None
    macs: int | None = None
    activations: int | None = None
    bytes_per_element: int = 4
    error: str | None = None
    # With --train: TRAIN_FIELDS of one training step there, or why there are none.
    training: dict[str, int] | None = None
    train_error: str | None = None

    @property
    def flops(self) -> int | None:
        return None if self.macs is None else 2 * self.macs

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"input": list(self.input), "batch": self.batch}
        data.update(self.settings)
        data.update(
            params=self.params,
            macs=self.macs,
            flops=self.flops,
            activations=self.activations,
            activation_bytes=None
            if self.activations is None
            else self.activations * self.bytes_per_element,
        )
        if self.training is not None or self.train_error is not None:
            data.update({k: (self.training or {}).get(k) for k in TRAIN_FIELDS})
            if self.train_error is not None:
                data["train_error"] = self.train_error
        if self.error is not None:
            data["error"] = self.error
        return data


@dataclass(frozen=True)
class Sweep:
    model: str
    axes: dict[str, list[Any]]  # swept axis → its values (res: sides, or C×H×W lists)
    points: list[Point]
    dtype: str = "fp32"
    vectorised: int = 0  # points counted by the array propagation
    scalar: int = 0  # points counted one by one (structure differs, or the model fails)
    growth: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "model": self.model,
            "dtype": self.dtype,
            "axes": self.axes,
            "growth": self.growth,
            "points": [p.to_dict() for p in self.points],
        }


# -- the array propagation ------------------------------------------------------------------


def _as_dims(inputs: Sequence[Shape], dtype: Any) -> tuple[Any, ...]:
    """The input shapes as one shape of dims: an int where all points agree, else an array."""
    dims = []
    for axis in range(len(inputs[0])):
        values = [s[axis] for s in inputs]
        same = all(v == values[0] for v in values)
        dims.append(int(values[0]) if same else np.array(values, dtype=dtype))
    return tuple(dims)


def _scalar_vshape(op: Any, attrs: Any, ins: list[Any], n: int) -> tuple[Any, Any]:
    """An op without a vector rule: its scalar rule at each point (exact, slower)."""
    outs, bad = [], np.zeros(n, dtype=bool)
    for i in range(n):
        shapes = [tuple(int(d if isinstance(d, int) else d[i]) for d in s) for s in ins]
        try:
            outs.append(op.shape(attrs, shapes))
        except ShapeError:
            bad[i] = True
            outs.append(shapes[0])
    return _as_dims(outs, object), bad


def propagate(graph: Graph, inputs: Sequence[Shape], dtype: Any = np.int64):
    """Shapes and per-sample sums of `graph` at every input shape at once.

    Returns the sums (name → array or int), the points where an op cannot run, and each
    layer's shape (name → dims)."""
    n = len(inputs)
    shapes: dict[str, tuple[Any, ...]] = {}
    bad: Any = np.zeros(n, dtype=bool)
    sums: dict[str, Any] = dict.fromkeys(SUMS, 0)
    for node in graph.nodes:
        op = node.op
        ins = [shapes[i] for i in node.inputs]
        if not node.inputs:
            out, fail = _as_dims(inputs, dtype), False
        elif op.vshape is None:
            out, fail = _scalar_vshape(op, node.attrs, ins, n)
        else:
            out, fail = op.vshape(node.attrs, ins)
        if fail is not False:
            fail = np.asarray(fail, dtype=bool)
            if fail.any():
                # A training-only branch that does not fit is dropped (build.py); the
                # inference totals are the same either way.
                if not node.train_only:
                    bad = bad | fail
                out = tuple(d if isinstance(d, int) else np.maximum(d, 1) for d in out)
        shapes[node.name] = out
        if node.train_only:
            continue
        cost = op.cost(node.attrs, ins, out)
        for name in SUMS:
            sums[name] = sums[name] + getattr(cost, name)
    return sums, bad, shapes


def _column(value: Any, n: int) -> list[int]:
    if isinstance(value, np.ndarray):
        return [int(v) for v in value.tolist()]
    return [int(value)] * n


def _exact_sums(graph: Graph, inputs: Sequence[Shape]):
    """int64 sums, checked by a float64 run: int64 arithmetic is exact modulo 2⁶⁴, so a total
    the float run puts below 2⁶² is exact; otherwise Python integers (object arrays)."""
    sums, bad, shapes = propagate(graph, inputs, np.int64)
    shadow, _, _ = propagate(graph, inputs, np.float64)
    n = len(inputs)
    runs = ~np.broadcast_to(bad, (n,))  # the failing points are redone one by one anyway
    for name in SUMS:
        ints, floats = _column(sums[name], n), np.broadcast_to(shadow[name], (n,))
        if (floats[runs] >= _SAFE).any() or any(
            ok and abs(i - f) > 1e-6 * abs(f) + 1
            for i, f, ok in zip(ints, floats.tolist(), runs.tolist(), strict=True)
        ):
            sums, bad, shapes = propagate(graph, inputs, object)
            break
    return {k: _column(v, n) for k, v in sums.items()}, np.broadcast_to(bad, (n,)), shapes


def _differs(value: Any, expected: int, n: int) -> Any:
    if isinstance(value, int):
        return np.full(n, value != expected)
    return np.asarray(value != expected, dtype=bool)


def _structure_changes(graph: Graph, reads: set, shapes: dict[str, Any], n: int) -> Any:
    """Points where a shape the build read differs from the build's own."""
    reference = {node.name: node.shape for node in graph.nodes}
    moved = np.zeros(n, dtype=bool)
    for origin, dim in reads:
        axes = range(len(reference[origin])) if dim is None else [dim]
        for axis in axes:
            moved |= _differs(shapes[origin][axis], reference[origin][axis], n)
    return moved


# -- one model at many sizes ----------------------------------------------------------------


def _single(spec: Spec, variant: str | None, shape: Shape | None) -> tuple[Shape, dict | str]:
    """One point the scalar way: the build and analysis `cnncost MODEL --input` runs."""
    try:
        graph = build(spec, variant, input_shape=shape, batch=1)
        t = analyze_graph(graph).totals
    except CnnCostError as exc:
        if isinstance(exc, SpecError):  # a built-in's error names the model, as the run does
            exc.builtin = builtin_model(spec, variant)
        return tuple(shape or ()), str(exc)
    return graph.input_shape, {"params": t.params, "macs": t.macs, "activations": t.activations}


def _one_structure(
    spec: Spec, variant: str | None, inputs: Sequence[Shape]
) -> tuple[list[dict | str | None], int, list[int], list[int]]:
    """One pass: the first size that builds is the template; the sizes of the same rank
    are propagated at once. Returns the results it has (None elsewhere), how many the
    propagation counted, the indices whose structure differs from the template's, and
    those that need the scalar path."""
    n = len(inputs)
    results: list[dict | str | None] = [None] * n
    graph, reads, start = None, set(), 0
    while graph is None and start < n:
        token = shape_reads.set(reads)
        try:
            graph = build(spec, variant, input_shape=inputs[start], batch=1)
        except CnnCostError:
            # the message of the single run, built without the read recording
            results[start] = _single(spec, variant, inputs[start])[1]
            start += 1
        finally:
            shape_reads.reset(token)
    if graph is None:
        return results, 0, [], []
    if spec.fixed_input:  # the build refuses any input but the spec's own
        reads.add((INPUT_NAME, None))
    rank = len(graph.input_shape)
    same = [i for i in range(start, n) if len(inputs[i]) == rank]
    scalar = [i for i in range(start, n) if len(inputs[i]) != rank]
    moved: list[int] = []
    sums, bad, shapes = _exact_sums(graph, [inputs[i] for i in same])
    changed = _structure_changes(graph, reads, shapes, len(same))
    for j, i in enumerate(same):
        if bad[j]:
            scalar.append(i)
        elif changed[j]:
            moved.append(i)
        else:
            results[i] = {
                "params": sums["weights"][j] + sums["biases"][j],
                "macs": sums["macs"][j],
                "activations": sums["activations"][j],
            }
    return results, len(same) - len(moved) - int(bad.sum()), moved, scalar


def size_sweep(
    spec: Spec,
    variant: str | None,
    inputs: Sequence[Shape],
    progress: Progress | None = None,
) -> tuple[list[dict | str], int]:
    """Per-sample totals (or an error line) at each input shape, and how many points the
    array propagation counted.

    Sizes whose structure differs from the template's (the spec reads the input's shape)
    form the next pass, with a template of their own, as long as each pass counts at least
    one size besides its template; the rest, and sizes where an op cannot run, are
    counted one by one."""
    results: list[dict | str | None] = [None] * len(inputs)
    pending, scalar, vectorised = list(range(len(inputs))), [], 0
    while pending:
        found, counted, moved, failed = _one_structure(spec, variant, [inputs[i] for i in pending])
        for k, value in enumerate(found):
            results[pending[k]] = value
        vectorised += counted
        scalar += [pending[k] for k in failed]
        if counted < 2 and moved:
            scalar += [pending[k] for k in moved]
            break
        pending = [pending[k] for k in moved]
    for k, i in enumerate(sorted(scalar)):
        if progress:
            progress(k, len(scalar), f"{len(scalar)} sizes one by one")
        results[i] = _single(spec, variant, inputs[i])[1]
    return cast(list, results), vectorised  # every point is filled in by now


# -- spec parameters and compound scaling ---------------------------------------------------


def with_settings(spec: Spec, variant: str | None, settings: dict[str, Any]) -> Spec:
    """The spec with some model parameters set (over the variant's arguments too)."""
    if not settings:
        return spec
    params = dict(spec.params)
    for name, value in settings.items():
        if name not in params:
            hint = did_you_mean(name, params) or (
                f"; it has {', '.join(params)}" if params else "; it has no parameters"
            )
            raise CnnCostError(f"--set: {spec.file} has no parameter {name!r}{hint}")
        params[name] = dataclasses.replace(params[name], default=value, required=False)
    variants = dict(spec.variants)
    if variant is not None:
        v = variants[variant]
        args = {k: a for k, a in v.args.items() if k not in settings}
        variants[variant] = dataclasses.replace(v, args=args)
    return dataclasses.replace(spec, params=params, variants=variants)


@dataclass(frozen=True)
class Compound:
    """EfficientNet's compound scaling (Tan & Le 2019, Section 3.3): at step φ, depth × α^φ,
    width × β^φ, resolution × γ^φ (rounded to whole pixels), from the model's own values."""

    alpha: float
    beta: float
    gamma: float
    depth: str = "depth"
    width: str = "width"
    resolution: str = "resolution"

    @property
    def flops_factor(self) -> float:
        """α·β²·γ²: how much each step multiplies the MACs of a plain CNN."""
        return self.alpha * self.beta**2 * self.gamma**2

    def settings(self, base: dict[str, Any], phi: float) -> dict[str, Any]:
        return {
            self.depth: base[self.depth] * self.alpha**phi,
            self.width: base[self.width] * self.beta**phi,
            self.resolution: round(base[self.resolution] * self.gamma**phi),
        }


def compound_of(spec: Spec, **given: float | None) -> Compound:
    """α, β, γ and the parameter names from the spec's `scaling:`, overridden by flags."""
    raw = spec.scaling or {}
    line = getattr(raw, "line", None)
    if raw and not isinstance(raw, dict):
        raise SpecError("'scaling' must be a mapping", file=spec.file, line=line)
    values: dict[str, Any] = {}
    for key in ("alpha", "beta", "gamma", "depth", "width", "resolution"):
        value = given.get(key) if given.get(key) is not None else raw.get(key)
        if value is not None:
            values[key] = value
    missing = [k for k in ("alpha", "beta", "gamma") if k not in values]
    if missing:
        raise CnnCostError(
            f"--phi needs {', '.join(missing)}: {spec.file} has no 'scaling:' giving them; "
            "pass --alpha, --beta and --gamma"
        )
    for key in ("depth", "width", "resolution"):
        name = values.get(key, key)
        if name not in spec.params:
            raise SpecError(
                f"compound scaling needs a parameter {name!r} for the {key}"
                f"{did_you_mean(name, spec.params)}",
                file=spec.file,
                line=line,
            )
    return Compound(**values)


def base_values(spec: Spec, variant: str | None) -> dict[str, Any]:
    from .build import model_scope

    return model_scope(spec, variant)


# -- the sweep ----------------------------------------------------------------------------


def axis_value(axis: str, point: Point) -> float:
    """The number the growth is fitted against on an axis."""
    if axis == "res":
        return math.sqrt(point.input[-2] * point.input[-1])  # the side of a square input
    if axis == "batch":
        return point.batch
    return point.settings[axis]


def fit_growth(points: Sequence[Point], axes: Sequence[str]) -> dict[str, dict[str, float]]:
    """Least-squares exponents on a log-log scale: metric ∝ Π axis^k, jointly over the
    swept axes (φ is already an exponent: metric ∝ 2^(kφ))."""
    ok = [p for p in points if p.error is None and p.macs and p.params and p.activations]
    varied = [a for a in axes if len({axis_value(a, p) for p in ok}) > 1]
    if not varied or len(ok) < 2:
        return {}
    columns = []
    for a in varied:
        values = [axis_value(a, p) for p in ok]
        if a != "phi" and min(values) <= 0:
            continue
        columns.append((a, np.array(values, dtype=float)))
    if not columns:
        return {}
    x = np.column_stack(
        [v * math.log(2) if a == "phi" else np.log(v) for a, v in columns] + [np.ones(len(ok))]
    )
    growth: dict[str, dict[str, float]] = {a: {} for a, _ in columns}
    metrics = ["params", "macs", "activations"]
    if all(p.training for p in ok):  # --train, and every point trains
        metrics.append("train_peak_bytes")
    rows = [p.to_dict() for p in ok]
    for metric in metrics:
        y = np.log(np.array([float(row[metric]) for row in rows]))
        k = np.linalg.lstsq(x, y, rcond=None)[0]
        for (a, _), value in zip(columns, k, strict=False):
            growth[a][metric] = round(float(value), 4) + 0.0  # no -0.0
    return growth


def run(
    model: str,
    *,
    inputs: Sequence[Shape] | None = None,
    batches: Sequence[int] = (1,),
    sets: dict[str, list[Any]] | None = None,
    phi: Sequence[float] | None = None,
    compound: dict[str, float | None] | None = None,
    dtype: str = "fp32",
    progress: Progress | None = None,
    train: TrainOptions | None = None,
) -> Sweep:
    """Sweep `model` over the cartesian product of the given axes; with `train`, each
    point also gets the cost of one training step (counted point by point)."""
    if dtype not in DTYPE_BYTES:
        raise CnnCostError(f"unknown dtype {dtype!r}{did_you_mean(dtype, DTYPE_BYTES)}")
    spec, variant = resolve(model)
    sets = sets or {}
    if phi is not None and inputs:
        raise CnnCostError("--phi sets the resolution itself; leave out --res and --input")
    scaling = compound_of(spec, **(compound or {})) if phi is not None else None
    base = base_values(spec, variant) if scaling else {}
    combos = list(itertools.product(*sets.values())) or [()]
    steps: list[float | None] = list(phi) if phi is not None else [None]
    axes: dict[str, list[Any]] = {name: list(values) for name, values in sets.items()}
    if phi is not None:
        axes["phi"] = list(phi)
    if inputs:
        square = all(len(s) == 3 and s[0] == inputs[0][0] and s[1] == s[2] for s in inputs)
        axes["res"] = [s[-1] for s in inputs] if square else [list(s) for s in inputs]
    if len(batches) > 1:
        axes["batch"] = list(batches)
    points: list[Point] = []
    vectorised = scalar = 0
    size = DTYPE_BYTES[dtype]
    total = len(combos) * len(steps)
    for index, (combo, step) in enumerate(itertools.product(combos, steps)):
        settings = dict(zip(sets, combo, strict=True))
        if progress and total > 1:
            progress(index, total, ", ".join(f"{k}={v}" for k, v in settings.items()) or "")
        shown = dict(settings)
        if scaling is not None and step is not None:
            settings.update(scaling.settings(base, step))
            shown = {"phi": step, **{k: _tidy(v) for k, v in settings.items()}}
        scaled = with_settings(spec, variant, settings)
        if inputs:
            results, done = size_sweep(scaled, variant, inputs, progress if total == 1 else None)
            shapes = list(inputs)
            vectorised += done
            scalar += len(inputs) - done
        else:
            shape, result = _single(scaled, variant, None)
            results, shapes = [result], [shape]
            scalar += 1
        made = []
        for shape, result in zip(shapes, results, strict=True):
            for batch in batches:
                if isinstance(result, str):
                    made.append(Point(shape, batch, shown, bytes_per_element=size, error=result))
                    continue
                made.append(
                    Point(
                        shape,
                        batch,
                        shown,
                        params=result["params"],
                        macs=result["macs"] * batch,
                        activations=result["activations"] * batch,
                        bytes_per_element=size,
                    )
                )
        if train is not None:
            made = _with_training(
                scaled, variant, made, dtype, train, progress if total == 1 else None
            )
        points += made
    return Sweep(
        model=model,
        axes=axes,
        points=points,
        dtype=dtype,
        vectorised=vectorised,
        scalar=scalar,
        growth=fit_growth(points, list(axes)),
    )


def _with_training(
    spec: Spec,
    variant: str | None,
    points: list[Point],
    dtype: str,
    options: TrainOptions,
    progress: Progress | None = None,
) -> list[Point]:
    """Each point with the totals of one training step there, from the graph built at that
    point (the training walk is not vectorised); where there are none (a training-only
    branch does not fit), the reason."""
    from .training import analyze_training

    done: list[Point] = []
    for index, p in enumerate(points):
        if progress and len(points) > 1:
            where = "×".join(map(str, p.input)) + f", batch {p.batch}"
            progress(index, len(points), f"training step at {where}")
        if p.error is not None:
            done.append(p)
            continue
        graph = build(spec, variant, input_shape=p.input, batch=p.batch)
        try:
            totals = analyze_training(graph, analyze_graph(graph, dtype), options).totals
        except CnnCostError as exc:
            done.append(dataclasses.replace(p, train_error=str(exc)))
            continue
        training = {k: getattr(totals, k) for k in TRAIN_FIELDS}
        done.append(dataclasses.replace(p, training=training))
    return done


def _tidy(value: Any) -> Any:
    """A scaled coefficient as it is shown: floats to 6 significant digits."""
    return float(f"{value:.6g}") if isinstance(value, float) else value


# -- parsing the axes ---------------------------------------------------------------------


def parse_values(text: str, what: str, integer: bool = False) -> list[Any]:
    """START:STOP[:STEP] (inclusive; exact decimal steps) or a comma-separated list."""
    try:
        if ":" in text:
            parts = [Fraction(p) for p in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            start, stop = parts[0], parts[1]
            step = parts[2] if len(parts) == 3 else Fraction(1)
            if step <= 0 or stop < start:
                raise ValueError
            count = int((stop - start) / step) + 1
            values = [start + i * step for i in range(count)]
        else:
            values = [Fraction(p) for p in text.split(",") if p.strip()]
            if not values:
                raise ValueError
    except (ValueError, ZeroDivisionError):
        raise CnnCostError(
            f"{what}: {text!r} is not START:STOP[:STEP] or a comma-separated list"
        ) from None
    out = [int(v) if v.denominator == 1 else float(v) for v in values]
    if integer and any(not isinstance(v, int) or v <= 0 for v in out):
        raise CnnCostError(f"{what}: {text!r} must give positive whole numbers")
    return out


# -- scaling metrics for the audit (cnncost/audit.py; docs/audit.md) ----------------------


def compound_factor(model: str) -> Fraction:
    """α·β²·γ² from the model's spec `scaling:` (exact, from the printed decimals)."""
    spec, _ = resolve(model)
    c = compound_of(spec)
    alpha, beta, gamma = (Fraction(str(v)) for v in (c.alpha, c.beta, c.gamma))
    return alpha * beta**2 * gamma**2


def phi_growth(model: str, steps: Sequence[float]) -> Fraction:
    """MACs growth per compound-scaling step: 2^k, k fitted over φ in `steps`."""
    k = run(model, phi=list(steps)).growth["phi"]["macs"]
    return Fraction(2**k)


def models_growth(models: Sequence[str]) -> Fraction:
    """MACs growth per step along a series of models at their own sizes (B0, B1, …, B7):
    2^k with k the least-squares slope of log₂ MACs against the model's index."""
    from . import analyze

    y = np.log2([float(analyze(m).totals.macs) for m in models])
    k = np.polyfit(np.arange(len(models), dtype=float), y, 1)[0]
    return Fraction(float(2**k))


def growth_exponent(model: str, axis: str, values: Sequence[Any]) -> Fraction:
    """The exponent of MACs against one axis swept alone: `res` (square input sides) or a
    spec parameter."""
    if axis == "res":
        result = run(model, inputs=[(3, int(v), int(v)) for v in values])
    else:
        result = run(model, sets={axis: list(values)})
    return Fraction(result.growth[axis]["macs"])
