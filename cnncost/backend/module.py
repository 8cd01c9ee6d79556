"""A layer graph as a torch nn.Module whose submodule names are the spec's layer paths.

`layer3.2.conv1` in a spec is `model.layer3[2].conv1` here, as in torchvision, so a user
can compare state_dict keys, hook a layer by name or load weights by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import CnnCostError
from ..graph import Graph, Node, dropped_note

# Called after every layer with its node and output: how verify and per-layer timing watch.
StepHook = Callable[[Node, torch.Tensor], None]


@dataclass(frozen=True)
class Step:
    node: Node
    module: nn.Module
    release: tuple[str, ...]  # values no later layer reads, dropped after this step


class SpecModule(nn.Module):
    """Runs the graph's layers in order, keeping each output only while a later layer needs
    it, so that peak memory is that of an ordinary hand-written model. Training-only
    branches (auxiliary classifiers) run in train mode only, as in torchvision."""

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.graph = graph
        self.input_name = graph.nodes[0].name
        shared = _shared_tensors(graph)
        modules = {}
        for node in graph.nodes[1:]:
            attrs = dict(node.attrs)
            if attrs.get("inplace") and node.inputs[0] in shared:
                attrs["inplace"] = False  # writing over a tensor others still read
            modules[node.name] = node.op.module(attrs, list(node.input_shapes), node.shape)
            self._attach(node.name, modules[node.name])
        self.steps = _plan(graph, modules, with_train_only=True)
        self.inference_steps = _plan(graph, modules, with_train_only=False)

    def _attach(self, path: str, module: nn.Module) -> None:
        holder: nn.Module = self
        *parents, leaf = (_safe(p) for p in path.split("."))
        for part in parents:
            child = holder._modules.get(part)
            if child is None:
                child = nn.Module()
                holder.add_module(part, child)
            elif type(child) is not nn.Module:
                raise CnnCostError(f"layer {path!r} is nested inside layer {part!r}")
            holder = child
        if leaf in holder._modules:
            raise CnnCostError(f"layer {path!r} is also the name of a group of layers")
        holder.add_module(leaf, module)

    def run(
        self, x: torch.Tensor, hook: StepHook | None = None, train_only: bool | None = None
    ) -> torch.Tensor:
        """The model's output; `train_only` runs the training-only branches or not
        (by default, in train mode only)."""
        if train_only is None and self.training and self.graph.dropped:
            note = dropped_note(self.graph.dropped, self.graph.input_shape)
            raise CnnCostError(f"cannot run in train mode: {note}")
        train_only = self.training if train_only is None else train_only
        values = {self.input_name: x}
        for step in self.steps if train_only else self.inference_steps:
            out = step.module(*(values[i] for i in step.node.inputs))
            values[step.node.name] = out
            if hook is not None:
                hook(step.node, out)
            for name in step.release:
                del values[name]
        return values[self.graph.output]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x)


def _plan(graph: Graph, modules: dict[str, nn.Module], with_train_only: bool) -> tuple[Step, ...]:
    """The layers to run, each with the values to drop once it has run."""
    nodes = [n for n in graph.nodes[1:] if with_train_only or not n.train_only]
    last_use = {name: i for i, n in enumerate(nodes) for name in n.inputs}
    steps = []
    for index, node in enumerate(nodes):
        release = tuple(
            name
            for name in (*dict.fromkeys(node.inputs), node.name)
            if last_use.get(name, index) <= index and name != graph.output
        )
        steps.append(Step(node, modules[node.name], release))
    return tuple(steps)


def _shared_tensors(graph: Graph) -> set[str]:
    """Layers whose output an in-place op must not overwrite: the network input, outputs
    read by more than one layer, and views (flatten, a channel slice) of such outputs."""
    readers: dict[str, int] = {}
    for node in graph.nodes:
        for name in node.inputs:
            readers[name] = readers.get(name, 0) + 1
    shared = {graph.nodes[0].name}
    for node in graph.nodes:
        stored = node.op.cost(node.attrs, list(node.input_shapes), node.shape).activations
        is_view = node.inputs and not stored and not node.attrs.get("inplace")
        if readers.get(node.name, 0) > 1 or (is_view and node.inputs[0] in shared):
            shared.add(node.name)
    return shared


def _safe(part: str) -> str:
    """Layer names that nn.Module already uses as attributes ('train', 'to') get a '_'."""
    return f"{part}_" if hasattr(nn.Module, part) else part


def build_module(graph: Graph) -> SpecModule:
    """The graph as an nn.Module with freshly initialised (random) weights."""
    return SpecModule(graph)
