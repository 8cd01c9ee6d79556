"""Expand a spec into a Graph: blocks, repeats, table rows and conditions become layers.

Expansion and shape inference happen in one walk, so a block can look at the shape of its
input (``in_channels``) to decide, say, whether its shortcut needs a projection. Within a
scope, entries are expanded in dependency order; forward references are allowed, and a
cycle among them is an error naming the cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ExprError, ShapeError, SpecError, did_you_mean
from .expr import ORIGIN, TrackedShape, Unreadable, shape_reads
from .graph import ALWAYS, Graph, Node
from .limits import (
    DEFAULT_MAX_LAYERS,
    MAX_LAYERS_ENV,
    check_batch,
    check_shape,
    check_tensor,
    excerpt,
    paused_gc,
)
from .limits import max_layers as layer_limit
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


class _Row(dict):
    """A table row's values by column, and the row's line, which an error in one names."""

    line: int | None = None


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


# A block call's expansion, to replay under another name (see _Builder.replay): per layer,
# its name and its inputs' names relative to the call (None: the call's input), and the
# template layer's fields; then the output relative to the call (None: its input).
_Recipe = tuple[list[tuple[str, dict[str, Any], tuple[str | None, ...]]], str | None]


def _recipe(prefix: str, input_id: str, nodes: list[Node], out: str) -> _Recipe:
    cut = len(prefix)
    steps = [
        (
            node.name[cut:],
            node.__dict__,
            tuple(None if i == input_id else i[cut:] for i in node.inputs),
        )
        for node in nodes
    ]
    return steps, (None if out == input_id else out[cut:])


class _Builder:
    def __init__(self, spec: Spec, max_layers: int = DEFAULT_MAX_LAYERS) -> None:
        self.spec = spec
        self.nodes: dict[str, Node] = {}
        # Training-only branches left out because they do not fit at this input size:
        # the branch's path and the error that stopped it.
        self.dropped: dict[str, SpecError] = {}
        # Set while expanding a training-only entry or one with a survival probability;
        # every layer made meanwhile carries them.
        self.train_only = False
        self.survival = ALWAYS
        # Entries switched off by 'if' or 'repeat: 0', by full name: why they are off.
        self.off: dict[str, str] = {}
        self.plans: dict[int, tuple[dict[str, tuple[str, ...]], list[Entry], dict[str, str]]] = {}
        self.max_layers = max_layers
        self.literals: dict[tuple, Any] = {}  # coerced literal attribute values
        # Sizing (see build): block calls expanded once stand in for later calls alike.
        self.sizing = False
        self.sizes: dict[tuple, tuple[int, str, Node | None]] = {}
        self.extra = 0
        self.stand_ins = 0
        # Block calls expanded once, replayed for later calls alike (see replay).
        self.replays: dict[tuple, _Recipe] = {}
        self.added: list[Node] = []

    def error(self, message: str, line: int | None, path: str | None) -> SpecError:
        return SpecError(message, file=self.spec.file, line=line, path=path)

    def coerce(self, kind: Kind, raw: Any, scope: Scope, what: str, line: int, path: str) -> Any:
        try:
            return kind.coerce(raw, scope)
        except ExprError as exc:
            raise self.error(f"{what}: {exc}", line, path) from None

    # -- scopes ---------------------------------------------------------------------------
    def body(self, body: Body, scope: Scope, input_id: str, prefix: str, stack: tuple) -> str:
        plan = self.plans.get(id(body))
        if plan is None:
            plan = self.plans[id(body)] = self.plan(body, prefix)
        refs, ordered, owner = plan
        local = {INPUT_NAME: input_id}
        by_name = {e.name: e for e in body.entries}
        for e in ordered:
            inputs = [local[s] for s in refs[e.name]]
            local[e.name] = self.entry(e, scope, inputs, prefix, stack, local)
            if e.sources is not None and self.ran(e, prefix):
                for s in e.sources:
                    self.check_on(s, by_name, owner, prefix, "'from'", e.sources_line, e.name)
        if body.output is not None:
            line = body.output_line or body.line
            self.check_on(body.output, by_name, owner, prefix, "'output'", line, None)
        return local[body.output or body.entries[-1].name]

    def plan(
        self, body: Body, prefix: str
    ) -> tuple[dict[str, tuple[str, ...]], list[Entry], dict[str, str]]:
        """Each entry's sources and the order to expand them in; the same for every
        instance of a body, so worked out once per body."""
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
        return refs, self.order(body, refs, owner, prefix), owner

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
            columns = _Row(  # read as arguments are: a lone word that names no variable is a word
                (column, self.coerce(WORD, raw, scope, f"column {column!r}", row.line, name))
                for column, raw in zip(e.table.columns, row.values, strict=True)
            )
            columns.line = row.line
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
        smallest = None
        for index in range(count):
            before = self.count
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
            # Refuse before expanding further when the copies still to come cannot fit.
            size = self.count - before
            smallest = size if smallest is None else min(smallest, size)
            if self.count + smallest * (count - index - 1) > self.max_layers:
                raise self.error(
                    f"'repeat: {count}' would expand the model beyond {self.max_layers:,} "
                    f"layers (the limit; raise it with ${MAX_LAYERS_ENV})",
                    e.repeat_line,
                    name,
                )
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
            if p != 1:
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
        gone = next((i for i in inputs if i in self.dropped), None) if self.dropped else None
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
        args, lines = e.args, e.arg_lines
        if first and e.first:
            args, lines = {**args, **e.first}, {**lines, **e.first_lines}
        if isinstance(row, _Row):  # a value from a table cell names the row's line
            lines = {**dict.fromkeys(row, row.line), **lines}
        if e.op is not None:
            ops = public_ops()
            op = ops[self.pick_name(e.op, scope, ops, "op", e.line, name)]
            if row:
                args = {**{k: v for k, v in row.items() if op.attr(k)}, **args}
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
        if row:
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
        variables = shape_variables(in_shape, inputs[0])
        inner = self.bind(
            block.params, args, lines, scope, variables, f"block {block_name!r}", e.line, name
        )
        inner.update(variables)
        key = self.call_key(block_name, inner, inputs[0], len(stack))
        if key is not None:  # one lookup each: hashing a key means hashing the whole scope
            try:
                if self.sizing and key in self.sizes:
                    return self.stand_in(key, inputs[0], name + ".", e.line)
                known = self.replays.get(key)
            except TypeError:  # an unhashable value in the scope (a list): no replay
                key = known = None
            if known is not None:
                return self.replay(known, inputs[0], name + ".", e.line)
        before, first, dropped = self.count, len(self.added), len(self.dropped)
        out = self.body(block.body, inner, inputs[0], name + ".", (*stack, (block_name, name)))
        if len(self.dropped) != dropped:  # each call records its own dropped branch
            return out
        if key is not None and self.sizing:
            made = self.nodes[out] if out != inputs[0] else None
            self.sizes[key] = (self.count - before, out[len(name) + 1 :], made)
        elif key is not None:
            self.replays[key] = _recipe(name + ".", inputs[0], self.added[first:], out)
        return out

    def replay(self, recipe: _Recipe, input_id: str, prefix: str, line: int) -> str:
        """Copy the layers of a block call expanded alike before, renamed under `prefix`:
        a 10⁵-layer repeat costs a rename per layer instead of a fresh expansion. The
        copies' fields are set directly, without the frozen dataclass's __init__ (which
        sets each through object.__setattr__); tests/test_graph.py holds them equal."""
        steps, out = recipe
        if self.count + len(steps) > self.max_layers:
            raise self.error(
                f"the model expands beyond {self.max_layers:,} layers (the limit; raise it "
                f"with ${MAX_LAYERS_ENV})",
                line,
                prefix[:-1],
            )
        for suffix, template, sources in steps:
            node = object.__new__(Node)
            values = node.__dict__
            values.update(template)
            values["name"] = prefix + suffix
            if len(sources) == 1:  # the common case, without a generator
                values["inputs"] = (input_id if sources[0] is None else prefix + sources[0],)
            else:
                values["inputs"] = tuple(input_id if s is None else prefix + s for s in sources)
            self.add(node)
        return input_id if out is None else prefix + out

    # -- sizing: bounding the expansion before it happens ------------------------------------
    def call_key(self, block_name: str, inner: Scope, input_id: str, depth: int) -> tuple | None:
        """What a block call's expansion depends on, so that equal keys expand alike: the
        block, its scope (values with their types: 1, 1.0 and true differ), the flags it
        runs under, whether its input is training-only, and its nesting depth. None (no
        replay) while a sweep records shape reads: every expression must run then."""
        if shape_reads.get() is not None:
            return None
        values = tuple(
            [
                (k, type(v), tuple(map(type, v)) if isinstance(v, tuple) else None, v)
                for k, v in sorted(inner.items())
            ]
        )
        # A Fraction hashes slowly: the common survival is known by identity.
        survival = None if self.survival is ALWAYS else self.survival
        flags = (self.train_only, survival, self.nodes[input_id].train_only, depth)
        return (block_name, values, flags)

    def stand_in(self, key: tuple, input_id: str, prefix: str, line: int) -> str:
        """While sizing, one node stands in for a block call already expanded alike; the
        layer count grows by the size of that expansion."""
        size, output, node = self.sizes[key]
        if node is None:
            return input_id
        if self.count + size > self.max_layers:
            raise self.error(
                f"the model expands beyond {self.max_layers:,} layers (the limit; raise it "
                f"with ${MAX_LAYERS_ENV})",
                line,
                prefix[:-1],
            )
        self.extra += size - 1
        self.stand_ins += 1
        stand = Node(
            prefix + output,
            node.op,
            node.attrs,
            (input_id,),
            node.input_shapes,
            node.shape,
            node.line,
            train_only=node.train_only,
            survival=node.survival,
        )
        return self.add(stand)

    @property
    def count(self) -> int:
        """Layers expanded so far, counting those a stand-in represents."""
        return len(self.nodes) + self.extra

    def pick_name(
        self, raw: str, scope: Scope, table: Mapping[str, Any], what: str, line: int, path: str
    ) -> str:
        """An op or block name, given directly or through a parameter holding the name."""
        if raw in table:
            return raw
        value = scope.get(raw)
        if isinstance(value, str) and value in table:
            return value
        hint = did_you_mean(raw[:100], table)
        raise self.error(f"unknown {what} {excerpt(raw)}{hint}", line, path)

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
            if isinstance(raw, (int, float)):  # a literal: the same value in every scope
                memo = (id(attr.kind), type(raw), raw)  # kinds are module constants
                if memo not in self.literals:
                    line = lines.get(key, e.line)
                    self.literals[memo] = self.coerce(attr.kind, raw, scope, key, line, name)
                attrs[key] = self.literals[memo]
            else:
                attrs[key] = self.coerce(attr.kind, raw, scope, key, lines.get(key, e.line), name)
        if len(attrs) < len(op.attrs):
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
        except (ArithmeticError, ValueError) as exc:  # sizes beyond what floats can hold
            raise self.error(f"{op.name}: cannot compute its shape ({exc})", e.line, name) from None
        except ShapeError as exc:
            if len(inputs) > 1:
                detail = f" (inputs: {', '.join(inputs)})"
            else:
                detail = f" (input {show(shapes[0])})" if shapes else ""
            message = f"{op.name}: {exc}{detail}"
            raise _DoesNotFit(message, file=self.spec.file, line=e.line, path=name) from None
        problem = check_tensor(shape)
        if problem:
            raise self.error(f"{op.name}: output {problem}", e.line, name)
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
        if len(self.nodes) + self.extra >= self.max_layers:
            raise self.error(
                f"the model expands beyond {self.max_layers:,} layers (the limit; raise it "
                f"with ${MAX_LAYERS_ENV})",
                node.line,
                node.name,
            )
        self.nodes[node.name] = node
        self.added.append(node)
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
        shape = tuple(POSITIVE.coerce(v, scope) for v in raw)
    except ExprError as exc:
        raise SpecError(f"input: {exc}", file=spec.file, line=line) from None
    problem = check_tensor(shape)
    if problem:
        raise SpecError(f"input: {problem}", file=spec.file, line=line)
    return shape


def batch_of(spec: Spec, variant: str | None, scope: Scope) -> int:
    raw, line = spec.batch, spec.batch_line
    if variant is not None and spec.variants[variant].batch is not None:
        raw, line = spec.variants[variant].batch, spec.variants[variant].line
    try:
        return POSITIVE.coerce(raw, scope)
    except ExprError as exc:
        raise SpecError(f"batch: {exc}", file=spec.file, line=line or None) from None


def static_bound(spec: Spec) -> int | None:
    """At most how many layers `spec` expands into, read off its text with every `if` taken
    as true; None when that depends on values (a repeat count given by an expression, a
    block named by a parameter) or on recursion."""
    memo: dict[str, int | None] = {}

    def body(b: Body, depth: int) -> int | None:
        total = 0
        for e in b.entries:
            n = entry(e, depth)
            if n is None:
                return None
            total += n
        return total

    def entry(e: Entry, depth: int) -> int | None:
        if depth > MAX_NESTING:
            return None
        if e.op is not None:
            unit: int | None = 1
        elif e.body is not None:
            unit = body(e.body, depth + 1)
        elif e.block in spec.blocks:
            if e.block not in memo:
                memo[e.block] = None  # a call back into it while sizing it is recursion
                memo[e.block] = body(spec.blocks[e.block].body, depth + 1)
            unit = memo[e.block]
        else:
            return None
        reps = 1 if e.repeat is None else e.repeat
        if unit is None or isinstance(reps, bool) or not isinstance(reps, int):
            return None
        return unit * reps * (len(e.table.rows) if e.table else 1)

    return body(spec.body, 0)


def build(
    spec: Spec,
    variant: str | None = None,
    *,
    input_shape: Shape | None = None,
    batch: int | None = None,
    max_layers: int | None = None,
    builtin: str | None = None,
) -> Graph:
    """Expand `spec` (one of its variants, if it has them) into a Graph.

    `max_layers` bounds the expansion (default: $CNNCOST_MAX_LAYERS, else 10⁶ layers).
    `builtin` names the built-in model the spec is, so that the reasons recorded for
    dropped branches name it rather than a path an installed copy does not have.
    """
    limit = layer_limit(max_layers)
    if input_shape is not None:
        input_shape = check_shape(input_shape, "input_shape")
    if batch is not None:
        batch = check_batch(batch, "batch")
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
    top = {**scope, **shape_variables(shape)}
    with paused_gc():
        builder = _Builder(spec, limit)
        # With blocks, size the model first, each distinct block call expanded once, so
        # that one beyond the layer limit (a block recursing into two copies of itself, say)
        # is refused in moments. When no call repeated, that pass was the whole build. A
        # spec whose size is bounded in advance (literal repeats, no recursion) needs none.
        # While a sweep records which layers' shapes the spec reads, every expression must
        # run, so there is no sizing pass and no replay then.
        builder.sizing = (
            shape_reads.get() is None
            and bool(spec.blocks)
            and (static_bound(spec) or limit + 1) > limit
        )
        builder.add(Node(INPUT_NAME, INPUT, {"shape": shape}, (), (), shape, spec.input_line))
        output = builder.body(spec.body, top, INPUT_NAME, "", ())
        if builder.stand_ins:
            builder = _Builder(spec, limit)
            builder.add(Node(INPUT_NAME, INPUT, {"shape": shape}, (), (), shape, spec.input_line))
            output = builder.body(spec.body, top, INPUT_NAME, "", ())
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
        dropped=tuple((name, _located(exc, builtin)) for name, exc in builder.dropped.items()),
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


def _located(exc: SpecError, builtin: str | None) -> str:
    """The error's line, naming the built-in model where the spec is one."""
    exc.builtin = builtin
    return str(exc)
