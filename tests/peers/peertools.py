"""Run the peer counters (torch's FlopCounterMode, fvcore, ptflops, thop, torchinfo) on the
real torchvision models, built without weights.

torchvision 0.28.0's wheel is installed with ``--no-deps`` beside the CPU torch; its compiled
ops (``_C.so``) are built for another torch and fail to load, after which importing
torchvision raises ``RuntimeError: operator torchvision::nms does not exist`` while it
registers fake (meta) and autograd kernels for those ops. ``import_torchvision`` stubs out
those two registration modules before the import: the model builders are plain Python and
never call the compiled ops (docs/counting.md, "Peer tools").
"""

from __future__ import annotations

import contextlib
import io
import sys
import types
from collections.abc import Callable
from typing import Any

_REGISTRATIONS = ("torchvision._meta_registrations", "torchvision._autograd_registrations")


def import_torchvision() -> types.ModuleType:
    """torchvision, importable beside a torch it was not built for."""
    if "torchvision" not in sys.modules:
        for name in _REGISTRATIONS:
            sys.modules.setdefault(name, types.ModuleType(name))
    import torchvision

    return torchvision


# Segmentation models: no pretrained backbone (that would download it), and no auxiliary
# head, which cnncost counts as a training-only branch (torchvision's eval forward runs it).
_SEGMENTATION = {"weights_backbone": None, "aux_loss": False}


def build(model: str) -> Any:
    """The torchvision model of that name, random weights, in eval mode."""
    import torch

    torch.manual_seed(0)
    models = import_torchvision().models
    extra = _SEGMENTATION if model in models.list_models(models.segmentation) else {}
    net = models.get_model(model, weights=None, **extra)
    return net.eval()


def _quiet(fn: Callable[[], Any]) -> Any:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return fn()


def count_torch(net: Any, shape: tuple[int, ...]) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        net(torch.zeros(1, *shape))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


def count_fvcore(net: Any, shape: tuple[int, ...]) -> int:
    import torch
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(net, torch.zeros(1, *shape))
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return int(_quiet(analysis.total))


def _ptflops(backend: str) -> Callable[[Any, tuple[int, ...]], int]:
    def count(net: Any, shape: tuple[int, ...]) -> int:
        from ptflops import get_model_complexity_info

        macs, _ = _quiet(
            lambda: get_model_complexity_info(
                net, shape, as_strings=False, print_per_layer_stat=False, backend=backend
            )
        )
        if macs is None:
            raise RuntimeError(f"ptflops ({backend}) did not finish")
        return int(macs)

    return count


def count_thop(net: Any, shape: tuple[int, ...]) -> int:
    import torch
    from thop import profile

    macs, _ = _quiet(lambda: profile(net, inputs=(torch.zeros(1, *shape),), verbose=False))
    return int(macs)


def count_torchinfo(net: Any, shape: tuple[int, ...]) -> int:
    from torchinfo import summary

    stats = _quiet(lambda: summary(net, input_size=(1, *shape), verbose=0))
    return int(stats.total_mult_adds)


PEERS: dict[str, Callable[[Any, tuple[int, ...]], int]] = {
    "torch": count_torch,
    "fvcore": count_fvcore,
    "ptflops": _ptflops("pytorch"),
    "ptflops-aten": _ptflops("aten"),
    "thop": count_thop,
    "torchinfo": count_torchinfo,
}


def measure(peer: str, model: str, shape: tuple[int, ...]) -> int:
    """What `peer` reports for torchvision's `model` on one input of `shape` (C, H, W)."""
    return PEERS[peer](build(model), shape)


if __name__ == "__main__":
    model, size = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 224
    for peer in sys.argv[3:] or PEERS:
        try:
            print(peer, measure(peer, model, (3, size, size)), flush=True)
        except Exception as exc:
            print(peer, "ERROR", type(exc).__name__, str(exc).splitlines()[0][:200], flush=True)
