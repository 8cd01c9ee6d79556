"""Expand a spec into a Graph: blocks, repeats, table rows and conditions become layers.

Expansion and shape inference happen in one walk, so a block can look at the shape of its
input (``in_channels``) to decide, say, whether its shortcut needs a projection. Within a
scope, entries are expanded in dependency order; forward references are allowed, and a
cycle among them is an error naming the cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from .errors import ExprError, ShapeError, SpecError, did_you_mean
from .expr import ORIGIN, TrackedShape, Unreadable, shape_reads
from .graph import Graph, Node
from .ops import OpDef, Shape, public_ops, show
from .ops.tensor import INPUT
from .spec import INPUT_NAME, Body, Entry, Param, Spec
from .values import ANY, BOOL, EXACT, NONNEGATIVE, POSITIVE, WORD, Kind

MAX_NESTING = 40  # block calls inside block calls; deeper means recursion without end
Scope = dict[str, Any]


def shape_variables(shape: Shape, origin: str = INPUT_NAME) -> Scope:
    """Variables describing a block's input (the output of layer `origin`), visible inside
    the block. While a sweep records reads, each one also says where it comes from."""
    scope = _variables(shape)
    if shape_reads.get() is not None:
        _track(scope, (origin,))
    return scope


def _variables(shape: Shape) -> Scope:
    scope: Scope = {"in_shape": tuple(shape)}
    if shape:
        scope["in_channels"] = shape[0]
    if len(shape) == 3:
        scope["in_height"], scope["in_width"] = shape[1], shape[2]
    return scope


_AXES = {"in_channels": 0, "in_height": 1, "in_width": 2}


def _track(scope: Scope, layers: tuple[str, ...]) -> None:
    """While a sweep records reads: say which layers' outputs the variables describe."""
    tracked = TrackedShape(scope["in_shape"])
    tracked.layers = layers
    scope["in_shape"] = tracked
    scope.update({ORIGIN + k: [(o, a) for o in layers] for k, a in _AXES.items() if k in scope})


class _DoesNotFit(SpecError):
    """A shape rule refused the input size; inside a training-only branch this drops the
    branch (see _Builder.branch) instead of stopping the build."""


def inline_shape_variables(scope: Scope, shape: Shape, group: str, origin: str) -> Scope:
    """in_channels and its kin inside inline layers. They keep the enclosing block's
    meaning (inline layers see the variables around them); where the group's own input
    differs, the name could mean either, so reading it is an error that says so. (While
    a sweep records reads, a read depends on both inputs.)"""
    result: Scope = {}
    for key, own in _variables(shape).items():
        outer = scope.get(key)
        if isinstance(outer, Unreadable):
            outer = outer.value
        if isinstance(outer, TrackedShape):  # comparing is not reading
            outer = tuple(tuple.__iter__(outer))
        same = outer == own
        if same is True:
            result[key] = own
            continue
        result[key] = Unreadable(
            outer,
            f"{key} is ambiguous inside the inline layers {group!r}: it is {_shown(outer)} "
            f"for the enclosing block's input but {_shown(own)} for the group's own input; "
            f"compute the value outside, as an argument of the group (e.g. "
            f"'squeeze: {key} // 4' beside 'layers:'), or make the group a block, whose "
            "variables describe its own input",
        )
    if shape_reads.get() is not None and not isinstance(result["in_shape"], Unreadable):
        outer = scope.get("in_shape")
        _track(result, (origin, *getattr(outer, "layers", ())))
    return result


def _shown(value: Any) -> str:
    if value is None:
        return "undefined"
    return show(value) if isinstance(value, tuple) else str(value)


class _Builder:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.nodes: dict[str, Node] = {}
        # Training-only branches left out because they do not fit at this input size:
        # the branch's path and the error that stopped it.
        self.dropped: dict[str, SpecError] = {}
        # Set while expanding a training-only entry or one with a survival probability;
        # every layer made meanwhile carries them.
        self.train_only = False
        self.survival = Fraction(1)
        # Entries switched off by 'if' or 'repeat: 0', by full name: why they are off.
        self.off: dict[str, str] = {}

    def error(self, message: str, line: int | None, path: str | None) -> SpecError:
        return SpecError(message, file=self.spec.file, line=line, path=path)

    def coerce(self, kind: Kind, raw: Any, scope: Scope, what: str, line: int, path: str) -> Any:
        try:
            return kind.coerce(raw, scope)
        except ExprError as exc:
            raise self.error(f"{what}: {exc}", line, path) from None

    # -- scopes ---------------------------------------------------------------------------
    def body(self, body: Body, scope: Scope, input_id: str, prefix: str, stack: tuple) -> str:
        owner: dict[str, str] = {}
        for e in body.entries:
            owner[e.name] = e.name
            if e.table is not None and e.table.named:
                owner.update({row.name: e.name for row in e.table.rows if row.name})
        refs: dict[str, tuple[str, ...]] = {}
        previous = INPUT_NAME
        for e in body.entries:
            sources = e.sources if e.sources is not None else (previous,)
            for s in sources:
                if s != INPUT_NAME and s not in owner:
                    choices = [INPUT_NAME, *owner]
                    raise self.error(
                        f"'from' names {s!r}, which is not a layer of this scope"
                        f"{did_you_mean(s, choices)}",
                        e.sources_line or e.line,
                        prefix + e.name,
                    )
            refs[e.name] = sources
            previous = e.name
        local = {INPUT_NAME: input_id}
        by_name = {e.name: e for e in body.entries}
        for e in self.order(body, refs, owner, prefix):
            inputs = [local[s] for s in refs[e.name]]
            local[e.name] = self.entry(e, scope, inputs, prefix, stack, local)
            if e.sources is not None and self.ran(e, prefix):
                for s in e.sources:
                    self.check_on(s, by_name, owner, prefix, "'from'", e.sources_line, e.name)
        if body.output is not None:
            line = body.output_line or body.line
            self.check_on(body.output, by_name, owner, prefix, "'output'", line, None)
        return local[body.output or body.entries[-1].name]

    def ran(self, e: Entry, prefix: str) -> bool:
        """Whether the entry (any row of its table) was switched on."""
        if e.table is None:
            return prefix + e.name not in self.off
        rows = e.table.rows
        return any(prefix + (r.name or f"{e.name}.{i}") not in self.off for i, r in enumerate(rows))

    def check_on(
        self,
        named: str,
        by_name: Mapping[str, Entry],
        owner: Mapping[str, str],
        prefix: str,
        what: str,
        line: int,
        reader: str | None,
    ) -> None:
        """A switched-off entry named in 'from' or 'output' is an error, unless it says
        'else: identity': silently reading its input instead has built wrong networks."""
        if named == INPUT_NAME or prefix + named not in self.off:
            return
        target = by_name[owner[named]]
        if target.else_identity:
            return
        raise self.error(
            f"{what} names {named!r}, which is switched off here ({self.off[prefix + named]}); "
            f"add 'else: identity' to {target.name!r} if it should then stand for its input",
            line or target.line,
            prefix + (reader or named),
        )

    def order(
        self, body: Body, refs: Mapping[str, tuple[str, ...]], owner: Mapping[str, str], prefix: str
    ) -> list[Entry]:
        """Entries in dependency order (listing order where free); a cycle is an error."""
        by_name = {e.name: e for e in body.entries}
        done: set[str] = set()
        ordered: list[Entry] = []
        for root in body.entries:
            if root.name in done:
                continue
            trail: list[str] = [root.name]
            pending = [iter(refs[root.name])]
            while pending:
                step = next(pending[-1], None)
                if step is None:
                    pending.pop()
                    finished = trail.pop()
                    done.add(finished)
                    ordered.append(by_name[finished])
                    continue
                if step == INPUT_NAME:
                    continue
                target = owner[step]
                if target in done:
                    continue
                if target in trail:
                    cycle = [*trail[trail.index(target) :], target]
                    raise self.error(
                        "layers form a cycle: " + " → ".join(cycle),
                        by_name[target].sources_line or by_name[target].line,
                        prefix + target,
                    )
                trail.append(target)
                pending.append(iter(refs[target]))
        return ordered

    # -- entries --------------------------------------------------------------------------
    def entry(
        self, e: Entry, scope: Scope, inputs: list[str], prefix: str, stack: tuple, local: Scope
    ) -> str:
        if e.table is None:
            return self.call(e, scope, inputs, prefix + e.name, stack, {})
        out = inputs[0]
        for index, row in enumerate(e.table.rows):
            name = prefix + (row.name if row.name else f"{e.name}.{index}")
            columns = {  # read as arguments are: a lone word that names no variable is a word
                column: self.coerce(WORD, raw, scope, f"column {column!r}", row.line, name)
                for column, raw in zip(e.table.columns, row.values, strict=True)
            }
            out = self.call(e, {**scope, **columns}, inputs, name, stack, columns)
            if row.name:
                local[row.name] = out
            inputs = [out]
        if name in self.off:  # the entry's own name refers to its last row
            self.off[prefix + e.name] = self.off[name]
        return out

    def call(
        self, e: Entry, scope: Scope, inputs: list[str], name: str, stack: tuple, row: Scope
    ) -> str:
        """One call of an entry (one table row), with its condition and repetitions."""
        # A layer switched off by 'if' or 'repeat: 0' stands for its (first) input.
        if e.cond is not None and not self.coerce(BOOL, e.cond, scope, "'if'", e.cond_line, name):
            self.off[name] = f"'if: {e.cond}' is false"
            return inputs[0]
        if e.repeat is None:
            return self.instance(e, scope, inputs, name, stack, row, first=False)
        count = self.coerce(NONNEGATIVE, e.repeat, scope, "'repeat'", e.repeat_line, name)
        if count == 0:
            self.off[name] = "'repeat' is 0"
            return inputs[0]
        for index in range(count):
            inputs = [
                self.instance(
                    e,
                    {**scope, "repeat_index": index},
                    inputs,
                    f"{name}.{index}",
                    stack,
                    row,
                    first=index == 0,
                )
            ]
        return inputs[0]

    def instance(
        self,
        e: Entry,
        scope: Scope,
        inputs: list[str],
        name: str,
        stack: tuple,
        row: Scope,
        first: bool,
    ) -> str:
        """One layer or block instance, under its training-only flag and its probability
        of running in a training step."""
        saved = (self.train_only, self.survival)
        opens_branch = False
        if e.train_only is not None:
            flag = self.coerce(BOOL, e.train_only, scope, "'train_only'", e.train_only_line, name)
            opens_branch = flag and not self.train_only
            self.train_only = self.train_only or flag
        if e.survival is not None:
            p = self.coerce(EXACT, e.survival, scope, "'survival'", e.survival_line, name)
            if not 0 < p <= 1:
                raise self.error(
                    f"'survival' must be a probability in (0, 1], got {p}", e.survival_line, name
                )
            self.survival *= p
        try:
            if opens_branch:
                return self.branch(e, scope, inputs, name, stack, row, first)
            return self.one(e, scope, inputs, name, stack, row, first)
        finally:
            self.train_only, self.survival = saved

    def branch(
        self,
        e: Entry,
        scope: Scope,
        inputs: list[str],
        name: str,
        stack: tuple,
        row: Scope,
        first: bool,
    ) -> str:
        """A training-only branch. If a shape rule inside it refuses this input size (an
        auxiliary classifier whose map collapses), the branch is left out and recorded, so
        the inference analysis goes on; any other error in it is still an error."""
        mark = len(self.nodes)
        try:
            return self.one(e, scope, inputs, name, stack, row, first)
        except _DoesNotFit as exc:
            for key in list(self.nodes)[mark:]:
                del self.nodes[key]
            self.dropped[name] = exc
            return name

    def one(
        self,
        e: Entry,
        scope: Scope,
        inputs: list[str],
        name: str,
        stack: tuple,
        row: Scope,
        first: bool,
    ) -> str:
        """A single layer or block instance."""
        gone = next((i for i in inputs if i in self.dropped), None)
        if gone is not None:
            if not self.train_only:
                raise self.error(
                    f"reads {gone!r}, a training-only layer; only training-only layers may",
                    e.sources_line or e.line,
                    name,
                )
            raise _DoesNotFit(
                f"reads {gone!r}, a training-only branch that does not fit at this size",
                file=self.spec.file,
                line=e.sources_line or e.line,
                path=name,
            )
        args, lines = dict(e.args), dict(e.arg_lines)
        if first and e.first:
            args.update(e.first)
            lines.update(e.first_lines)
        if e.op is not None:
            ops = public_ops()
            op = ops[self.pick_name(e.op, scope, ops, "op", e.line, name)]
            takes = {a.name for a in op.attrs}
            args = {**{k: v for k, v in row.items() if k in takes}, **args}
            return self.op_node(e, op, args, lines, scope, inputs, name)
        if len(inputs) != 1:
            raise self.error(
                f"a block takes one input, but 'from' gives {len(inputs)}",
                e.sources_line or e.line,
                name,
            )
        in_shape = self.nodes[inputs[0]].shape
        if e.body is not None:
            inner = dict(scope)
            for key, raw in args.items():
                inner[key] = self.coerce(ANY, raw, scope, key, lines.get(key, e.line), name)
            inner.update(inline_shape_variables(scope, in_shape, name, inputs[0]))
            return self.body(e.body, inner, inputs[0], name + ".", stack)
        block_name = self.pick_name(e.block or "", scope, self.spec.blocks, "block", e.line, name)
        block = self.spec.blocks[block_name]
        args = {**{k: v for k, v in row.items() if k in block.params}, **args}
        if len(stack) >= MAX_NESTING:
            start = next((path for b, path in stack if b == block_name), name)
            raise self.error(
                f"block {block_name!r} recurses without end: calls nest deeper than "
                f"{MAX_NESTING} levels ({' → '.join(b for b, _ in stack[:4])} → …); "
                "stop the recursion with 'if'",
                e.line,
                start,
            )
        inner = self.bind(
            block.params,
            args,
            lines,
            scope,
            shape_variables(in_shape, inputs[0]),
            f"block {block_name!r}",
            e.line,
            name,
        )
        inner.update(shape_variables(in_shape, inputs[0]))
        return self.body(block.body, inner, inputs[0], name + ".", (*stack, (block_name, name)))

    def pick_name(
        self, raw: str, scope: Scope, table: Mapping[str, Any], what: str, line: int, path: str
    ) -> str:
        """An op or block name, given directly or through a parameter holding the name."""
        if raw in table:
            return raw
        value = scope.get(raw)
        if isinstance(value, str) and value in table:
            return value
        raise self.error(f"unknown {what} {raw!r}{did_you_mean(raw, table)}", line, path)

    def bind(
        self,
        params: Mapping[str, Param],
        args: Mapping[str, Any],
        lines: Mapping[str, int],
        caller: Scope,
        context: Scope,
        owner: str,
        line: int,
        path: str,
    ) -> Scope:
        """Values for every parameter: given arguments first, then defaults in order."""
        values: Scope = {}
        for key, raw in args.items():
            param = params.get(key)
            if param is None:
                hint = did_you_mean(key, params) or (
                    f"; it takes {', '.join(params)}" if params else "; it takes no parameters"
                )
                raise self.error(
                    f"{owner} has no parameter {key!r}{hint}", lines.get(key, line), path
                )
            values[key] = self.coerce(param.kind, raw, caller, key, lines.get(key, line), path)
        for param in params.values():
            if param.name in values:
                continue
            if param.required:
                raise self.error(f"{owner} needs parameter {param.name!r}", line, path)
            scope = {**context, **values}
            values[param.name] = self.coerce(
                param.kind, param.default, scope, f"default of {param.name!r}", param.line, path
            )
        return values

    def op_node(
        self,
        e: Entry,
        op: OpDef,
        args: Mapping[str, Any],
        lines: Mapping[str, int],
        scope: Scope,
        inputs: list[str],
        name: str,
    ) -> str:
        low, high = op.inputs
        if len(inputs) < low or (high is not None and len(inputs) > high):
            wanted = f"at least {low}" if high is None else str(low)
            raise self.error(
                f"{op.name} takes {wanted} input(s), got {len(inputs)}",
                e.sources_line or e.line,
                name,
            )
        attrs: dict[str, Any] = {}
        for key, raw in args.items():
            attr = op.attr(key)
            if attr is None:
                names = [a.name for a in op.attrs]
                hint = did_you_mean(key, names) or (
                    f"; it takes {', '.join(names)}" if names else "; it takes none"
                )
                raise self.error(
                    f"{op.name} has no attribute {key!r}{hint}", lines.get(key, e.line), name
                )
            attrs[key] = self.coerce(attr.kind, raw, scope, key, lines.get(key, e.line), name)
        for attr in op.attrs:
            if attr.name not in attrs:
                if attr.required:
                    raise self.error(
                        f"{op.name} needs attribute {attr.name!r} ({attr.doc})", e.line, name
                    )
                attrs[attr.name] = op.defaults[attr.name]
        if not self.train_only:
            for i in inputs:
                if self.nodes[i].train_only:
                    raise self.error(
                        f"reads {i!r}, a training-only layer; only training-only layers may",
                        e.sources_line or e.line,
                        name,
                    )
        shapes = [self.nodes[i].shape for i in inputs]
        try:
            shape = op.shape(attrs, shapes)
        except ShapeError as exc:
            if len(inputs) > 1:
                detail = f" (inputs: {', '.join(inputs)})"
            else:
                detail = f" (input {show(shapes[0])})" if shapes else ""
            message = f"{op.name}: {exc}{detail}"
            raise _DoesNotFit(message, file=self.spec.file, line=e.line, path=name) from None
        node = Node(
            name,
            op,
            attrs,
            tuple(inputs),
            tuple(shapes),
            shape,
            e.line,
            train_only=self.train_only,
            survival=self.survival,
        )
        return self.add(node)

    def add(self, node: Node) -> str:
        if node.name in self.nodes:
            raise self.error(f"two layers are both named {node.name!r}", node.line, node.name)
        self.nodes[node.name] = node
        return node.name


def model_scope(spec: Spec, variant: str | None) -> Scope:
    """The model's parameter values: the variant's arguments over the spec's defaults."""
    builder = _Builder(spec)
    args, lines, line = {}, {}, spec.input_line
    if variant is not None:
        v = spec.variants[variant]
        args, lines, line = v.args, v.arg_lines, v.line
    return builder.bind(spec.params, args, lines, {}, {}, "the spec", line, variant or "")


def input_shape_of(spec: Spec, variant: str | None, scope: Scope) -> Shape:
    raw, line = spec.input, spec.input_line
    if variant is not None and spec.variants[variant].input is not None:
        raw, line = spec.variants[variant].input, spec.variants[variant].line
    if not isinstance(raw, list) or not raw:
        raise SpecError(
            "'input' must be a list of sizes, e.g. [3, 224, 224]", file=spec.file, line=line
        )
    try:
        return tuple(POSITIVE.coerce(v, scope) for v in raw)
    except ExprError as exc:
        raise SpecError(f"input: {exc}", file=spec.file, line=line) from None


def batch_of(spec: Spec, variant: str | None, scope: Scope) -> int:
    raw = spec.batch
    if variant is not None and spec.variants[variant].batch is not None:
        raw = spec.variants[variant].batch
    try:
        return POSITIVE.coerce(raw, scope)
    except ExprError as exc:
        raise SpecError(f"batch: {exc}", file=spec.file) from None


def build(
    spec: Spec,
    variant: str | None = None,
    *,
    input_shape: Shape | None = None,
    batch: int | None = None,
) -> Graph:
    """Expand `spec` (one of its variants, if it has them) into a Graph."""
    variant = spec.pick_variant(variant)
    scope = model_scope(spec, variant)
    shape = tuple(input_shape) if input_shape else input_shape_of(spec, variant, scope)
    if spec.fixed_input and input_shape:
        native = input_shape_of(spec, variant, scope)
        if shape != native:
            raise SpecError(
                f"{variant or spec.name} takes only a {show(native)} input, not {show(shape)}: "
                + " ".join(spec.fixed_input.split()),
                file=spec.file,
                line=spec.fixed_input_line or spec.input_line,
            )
    builder = _Builder(spec)
    builder.add(Node(INPUT_NAME, INPUT, {"shape": shape}, (), (), shape, spec.input_line))
    output = builder.body(spec.body, {**scope, **shape_variables(shape)}, INPUT_NAME, "", ())
    if output in builder.dropped or builder.nodes[output].train_only:
        line = builder.nodes[output].line if output in builder.nodes else spec.input_line
        raise SpecError(
            f"the model's output {output!r} is a training-only layer; name the inference "
            "output with a top-level 'output:'",
            file=spec.file,
            line=line,
        )
    if builder.dropped:
        _check_branches_fit_natively(spec, variant, scope, shape, builder.dropped)
    v = spec.variants.get(variant) if variant else None
    return Graph(
        model=variant or spec.name,
        title=(v.title if v and v.title else spec.title),
        source=(v.source if v and v.source else spec.source),
        file=spec.file,
        nodes=tuple(builder.nodes.values()),
        output=output,
        input_shape=shape,
        batch=batch if batch is not None else batch_of(spec, variant, scope),
        dropped=tuple((name, str(exc)) for name, exc in builder.dropped.items()),
    )


def _check_branches_fit_natively(
    spec: Spec, variant: str | None, scope: Scope, shape: Shape, dropped: Mapping[str, SpecError]
) -> None:
    """A training-only branch may be left out at another input size, never at the spec's
    own: there its failure is a mistake in the spec (a wrong width), not a size limit."""
    native = input_shape_of(spec, variant, scope)
    if tuple(shape) != tuple(native):
        build(spec, variant, input_shape=native)
        return
    raise next(iter(dropped.values()))
