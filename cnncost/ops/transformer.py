"""Transformer ops: layer norm, token reshapes, class token and position embedding,
multi-head self-attention (ViT), shifted-window attention and patch merging (Swin), and
ConvNeXt's layer scale.

Sequences are per-sample (tokens, features) shapes; Swin and ConvNeXt's channels-last
feature maps are H×W×C. `permute` moves between the layouts as torchvision's Permute does.
"""

from __future__ import annotations

from ..errors import ShapeError
from ..values import BOOL, FLOAT, NONNEGATIVE, PAIR, PAIR0, POSITIVE, IntListKind, choice
from .registry import (
    Attr,
    Attrs,
    Cost,
    Grad,
    Need,
    OpDef,
    Saved,
    Shape,
    array_safe,
    no_macs,
    numel,
    register,
    saves_nothing,
    show,
)
from .window import GLOBAL, Window

_FREE = Cost()
_AXIS = choice("last", "channels")
_DIMS = IntListKind("list of PyTorch dims (0 is the batch)", minimum=0)


def _need(x: Shape, rank: int, layout: str) -> None:
    if len(x) != rank:
        raise ShapeError(f"needs a {layout} input, got {show(x) if x else 'a scalar'}")


def _heads_divide(dim: int, heads: int) -> None:
    if dim % heads:
        raise ShapeError(f"{dim} features cannot be split into {heads} heads")


# -- permute ------------------------------------------------------------------------------


def _permute_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    dims = a["dims"]
    if sorted(dims) != list(range(len(x) + 1)):
        raise ShapeError(
            f"dims {list(dims)} is not an ordering of the {len(x) + 1} dims of a batch of "
            f"{show(x)} (PyTorch dims, 0 is the batch)"
        )
    if dims[0] != 0:
        raise ShapeError(f"dims {list(dims)} must keep the batch (dim 0) first")
    return tuple(x[d - 1] for d in dims[1:])


def _permute_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import Permute

    return Permute(a["dims"])


register(
    OpDef(
        name="permute",
        doc="Reorder dimensions (torchvision's Permute): C×H×W ↔ H×W×C, (D, N) → (N, D); a view.",
        category="tensor",
        attrs=(Attr("dims", _DIMS, doc="the new order of PyTorch dims, batch (0) first"),),
        shape=_permute_shape,
        vshape=array_safe(_permute_shape),
        cost=lambda a, ins, out: _FREE,
        cost_doc="free: a view",
        module=_permute_module,
        saves=saves_nothing,
        backward=no_macs,
    )
)


# -- layer norm ---------------------------------------------------------------------------


def _layernorm_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    if a["axis"] == "channels":
        _need(x, 3, "C×H×W")
    elif not x:
        raise ShapeError("needs an input with a feature dimension")
    return x


def _normalized(a: Attrs, x: Shape) -> int:
    return x[0] if a["axis"] == "channels" else x[-1]


def _layernorm_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    c = _normalized(a, ins[0])
    affine = c if a["affine"] else 0
    return Cost(
        weights=affine,
        biases=affine,
        elementwise=(5 if a["affine"] else 4) * numel(out),
        activations=numel(out),
    )


def _layernorm_saves(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
    """The input, and each position's mean and inverse standard deviation (fp32)."""
    positions = numel(ins[0]) // _normalized(a, ins[0])
    return (Saved("input"), Saved("new", elements=2 * positions, dtype="fp32"))


def _layernorm_counts(a: Attrs, ins: list[Shape], out: Shape) -> dict[str, int]:
    return {"affine": int(a["affine"]), "channels": int(a["axis"] == "channels")}


def _layernorm_module(a: Attrs, ins: list[Shape], out: Shape):
    from torch import nn

    from ..backend.layers import LayerNorm2d

    kind = LayerNorm2d if a["axis"] == "channels" else nn.LayerNorm
    return kind(_normalized(a, ins[0]), eps=a["eps"], elementwise_affine=a["affine"])


register(
    OpDef(
        name="layernorm",
        doc="Layer normalisation of each position's features: over the last dim "
        "(LayerNorm) or over the channels of C×H×W (ConvNeXt's LayerNorm2d).",
        category="normalisation",
        attrs=(
            Attr("eps", FLOAT, 1e-5, "added to the variance for stability"),
            Attr("affine", BOOL, True, "learn a scale (weight) and shift (bias) per feature"),
            Attr("axis", _AXIS, "last", "normalise over the last dim, or over C of C×H×W"),
        ),
        shape=_layernorm_shape,
        vshape=array_safe(_layernorm_shape),
        cost=_layernorm_cost,
        counts=_layernorm_counts,
        module=_layernorm_module,
        saves=_layernorm_saves,
        backward=no_macs,
        autocast="fp32",
        autocast_cpu="same",  # layer_norm is on CUDA's fp32 list, not on the CPU's
        cost_doc=(
            "trainable D scales + D shifts (D = normalised features); no buffers; "
            "element-wise ops 5 per element with the affine (4 without), as fvcore counts: "
            "the statistics are per sample, so nothing folds at inference"
        ),
    )
)


# -- class token, position embedding, token selection --------------------------------------


def _tokens(x: Shape) -> None:
    _need(x, 2, "(tokens, features)")


def _class_token_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    _tokens(x)
    return (x[0] + 1, x[1])


def _class_token_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import ClassToken

    return ClassToken(ins[0][1])


register(
    OpDef(
        name="class_token",
        doc="Prepend a learned class token to the sequence: (N, D) → (N+1, D) (ViT, BERT).",
        category="transformer",
        shape=_class_token_shape,
        vshape=array_safe(_class_token_shape),
        cost=lambda a, ins, out: Cost(weights=ins[0][1], activations=numel(out)),
        module=_class_token_module,
        saves=saves_nothing,
        backward=no_macs,
        autocast="promote",  # concatenated with an fp32 parameter
        cost_doc="D learned weights; no arithmetic; stores its output (torch.cat copies)",
    )
)


def _position_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    if not x:
        raise ShapeError("needs an input with a feature dimension")
    return x


def _position_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import PositionEmbedding

    return PositionEmbedding(ins[0])


register(
    OpDef(
        name="position_embedding",
        doc="Add a learned position embedding, one vector per token (ViT's pos_embedding).",
        category="transformer",
        shape=_position_shape,
        vshape=array_safe(_position_shape),
        cost=lambda a, ins, out: Cost(
            weights=numel(out), elementwise=numel(out), activations=numel(out)
        ),
        module=_position_module,
        saves=saves_nothing,
        backward=no_macs,
        autocast="promote",  # adds an fp32 parameter
        cost_doc="one learned weight per input element (N·D); 1 element-wise add per element",
    )
)


def _select_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    _tokens(x)
    if a["index"] >= x[0]:
        raise ShapeError(f"token {a['index']} is out of range for {x[0]} tokens (from 0)")
    return (x[1],)


def _select_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import SelectToken

    return SelectToken(a["index"])


register(
    OpDef(
        name="select_token",
        doc="One token's features: (N, D) → D, as ViT's x[:, 0] takes the class token; a view.",
        category="transformer",
        attrs=(Attr("index", NONNEGATIVE, 0, "which token, from 0"),),
        shape=_select_shape,
        vshape=lambda a, ins: ((ins[0][1],), a["index"] >= ins[0][0]),
        cost=lambda a, ins, out: _FREE,
        module=_select_module,
        saves=saves_nothing,
        backward=no_macs,
        cost_doc="free: a view",
    )
)


# -- multi-head self-attention -----------------------------------------------------------


def _attention_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    _tokens(x)
    _heads_divide(x[1], a["heads"])
    return x


def _attention_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    n, d = ins[0]
    h = a["heads"]
    scores = h * n * n
    return Cost(
        weights=3 * d * d + d * d,
        biases=4 * d if a["bias"] else 0,
        # q, k, v projections; Q·Kᵀ and A·V (N·N·d/h per head each); output projection
        macs=n * d * 3 * d + 2 * n * n * d + n * d * d,
        # bias adds (3ND + ND), scaling q (ND), softmax (3 per score)
        elementwise=(4 * n * d if a["bias"] else 0) + n * d + 3 * scores,
        # q, k, v; the scores and their softmax; the heads' context; the output
        activations=3 * n * d + 2 * scores + 2 * n * d,
    )


def _attention_products(
    x: Saved, features: int, scores: int, need: Need, fp32_softmax: bool
) -> tuple[Saved, ...]:
    """What self-attention keeps, written as our torch modules compute it: the projection's
    input and the heads' context (for the weight gradients: only when trainable), the
    scaled q, and kᵀ and v copied into batched-matmul layout (each tokens·features), and the
    softmax (heads·scores). Under autocast an fp32 softmax also leaves A·V a half copy."""
    saved = [x] if need.weights else []
    saved += [Saved("new", elements=features) for _ in range(3)]
    saved.append(Saved("new", elements=scores, dtype="fp32" if fp32_softmax else "act"))
    if fp32_softmax:
        saved.append(Saved("new", elements=scores))
    if need.weights:
        saved.append(Saved("new", elements=features))
    return tuple(saved)


def _attention_saves(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
    n, d = ins[0]
    # CUDA's autocast runs softmax in fp32; the CPU's leaves it in bf16
    fp32 = need.amp and need.device == "cuda"
    return _attention_products(Saved("input"), n * d, a["heads"] * n * n, need, fp32)


def _attention_backward(a: Attrs, ins: list[Shape], out: Shape) -> Grad:
    """q/k/v projection: 3ND² to the input and 3ND² to its weights; Q·Kᵀ and A·V: 2N²D
    each, back to both factors; output projection: ND² to the context and ND² to weights."""
    n, d = ins[0]
    return Grad(input=3 * n * d * d, weight=4 * n * d * d, inner=4 * n * n * d + n * d * d)


def _attention_counts(a: Attrs, ins: list[Shape], out: Shape) -> dict[str, int]:
    """The cost split the way the peers see it: projections, score products, scores."""
    n, d = ins[0]
    bias = n * d if a["bias"] else 0
    return {
        "proj_macs": 4 * n * d * d,
        "score_macs": 2 * n * n * d,
        "scores": a["heads"] * n * n,
        "qkv_bias_adds": 3 * bias,
        "proj_bias_adds": bias,
        "tokens": n,
        "dim": d,
    }


def _attention_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import MultiheadSelfAttention

    return MultiheadSelfAttention(ins[0][1], a["heads"], bias=a["bias"])


register(
    OpDef(
        name="multihead_attention",
        doc="Multi-head self-attention on (N, D) tokens, with its q/k/v and output "
        "projections (PyTorch's nn.MultiheadAttention, as ViT uses it).",
        category="transformer",
        attrs=(
            Attr("heads", POSITIVE, doc="number of heads; each sees D/heads features"),
            Attr("bias", BOOL, True, "biases on the q/k/v and output projections"),
        ),
        shape=_attention_shape,
        vshape=lambda a, ins: (ins[0], ins[0][1] % a["heads"] != 0),
        cost=_attention_cost,
        counts=_attention_counts,
        module=_attention_module,
        saves=_attention_saves,
        backward=_attention_backward,
        autocast="half",
        window=lambda a, ins: GLOBAL,  # every token reads every token
        cost_doc=(
            "weights 3D² (q, k, v) + D² (output), biases 3D + D; MACs = 3ND² + N²D (Q·Kᵀ) "
            "+ N²D (A·V) + ND²; element-wise: bias adds, the 1/√(D/heads) scaling (ND) and "
            "softmax (3 per score: exponent, sum, divide); stores q/k/v, scores, softmax, "
            "context and output"
        ),
    )
)


# -- Swin: shifted-window attention and patch merging ------------------------------------


def _window_geometry(a: Attrs, x: Shape) -> tuple[int, int, bool]:
    """Tokens after padding to whole windows, tokens per window, and whether the windows
    are shifted (torchvision drops the shift where one window covers the padded map)."""
    h, w, _ = x
    (mh, mw), (sh, sw) = a["window"], a["shift"]
    ph, pw = -(-h // mh) * mh, -(-w // mw) * mw
    shifted = (mh < ph) * sh + (mw < pw) * sw > 0  # arithmetic, so sweeps pass arrays
    return ph * pw, mh * mw, shifted


def _window_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    _need(x, 3, "channels-last H×W×C")
    _heads_divide(x[2], a["heads"])
    for m, s, axis in zip(a["window"], a["shift"], ("height", "width"), strict=True):
        if s >= m:
            raise ShapeError(f"shift {s} must be smaller than the window {m} ({axis})")
    return x


def _window_cost(a: Attrs, ins: list[Shape], out: Shape) -> Cost:
    h, w, c = ins[0]
    heads = a["heads"]
    (mh, mw) = a["window"]
    tokens, per_window, shifted = _window_geometry(a, ins[0])
    scores = heads * tokens * per_window  # heads · windows · (tokens per window)²
    table = (2 * mh - 1) * (2 * mw - 1) * heads
    return Cost(
        weights=3 * c * c + c * c,
        biases=(3 * c if a["qkv_bias"] else 0) + (c if a["proj_bias"] else 0) + table,
        buffers=per_window * per_window,  # relative_position_index
        macs=tokens * c * 3 * c + 2 * tokens * per_window * c + tokens * c * c,
        elementwise=(3 * tokens * c if a["qkv_bias"] else 0)
        + tokens * c  # scaling q
        + scores * (1 + shifted)  # relative position bias, and the shift's mask
        + 3 * scores  # softmax
        + (tokens * c if a["proj_bias"] else 0),
        activations=3 * tokens * c + 2 * scores + tokens * c + h * w * c,
    )


def _window_saves(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
    """As multihead attention, over the windowed tokens. The projection reads a windowed
    copy of the input, except where one unpadded window covers the map (then a view)."""
    h, w, c = ins[0]
    tokens, per_window, _ = _window_geometry(a, ins[0])
    view = tokens == h * w == per_window
    x = Saved("input") if view else Saved("new", elements=tokens * c)
    # the fp32 relative position bias promotes the scores, and so the softmax, to fp32
    scores = a["heads"] * tokens * per_window
    return _attention_products(x, tokens * c, scores, need, need.amp)


def _window_backward(a: Attrs, ins: list[Shape], out: Shape) -> Grad:
    c = ins[0][2]
    t, m, _ = _window_geometry(a, ins[0])
    return Grad(input=3 * t * c * c, weight=4 * t * c * c, inner=4 * t * m * c + t * c * c)


def _window_counts(a: Attrs, ins: list[Shape], out: Shape) -> dict[str, int]:
    """The cost split the way the peers see it: projections, score products, scores."""
    c = ins[0][2]
    tokens, per_window, _ = _window_geometry(a, ins[0])
    return {
        "proj_macs": 4 * tokens * c * c,
        "score_macs": 2 * tokens * per_window * c,
        "scores": a["heads"] * tokens * per_window,
        "qkv_bias_adds": 3 * tokens * c if a["qkv_bias"] else 0,
        "proj_bias_adds": tokens * c if a["proj_bias"] else 0,
        "tokens": tokens,
    }


def _window_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import ShiftedWindowAttention

    return ShiftedWindowAttention(
        ins[0][2],
        list(a["window"]),
        list(a["shift"]),
        a["heads"],
        qkv_bias=a["qkv_bias"],
        proj_bias=a["proj_bias"],
    )


register(
    OpDef(
        name="window_attention",
        doc="Swin's (shifted) window multi-head self-attention on channels-last H×W×C, "
        "with q/k/v and output projections and a relative position bias table.",
        category="transformer",
        attrs=(
            Attr("heads", POSITIVE, doc="number of heads; each sees C/heads features"),
            Attr("window", PAIR, doc="window size M (or [Mh, Mw]); attention stays inside"),
            Attr("shift", PAIR0, 0, "cyclic shift before partitioning (SW-MSA: M // 2)"),
            Attr("qkv_bias", BOOL, True, "biases on the q/k/v projection"),
            Attr("proj_bias", BOOL, True, "bias on the output projection"),
        ),
        shape=_window_shape,
        vshape=lambda a, ins: (ins[0], ins[0][2] % a["heads"] != 0),
        cost=_window_cost,
        counts=_window_counts,
        module=_window_module,
        saves=_window_saves,
        backward=_window_backward,
        autocast="half",
        # each position reads the M×M window it falls in
        window=lambda a, ins: Window(a["window"], (1, 1)),
        cost_doc=(
            "weights 4C²; biases 3C + C and the (2M−1)² × heads relative position bias "
            "table; buffers the M²·M² relative_position_index; over the T tokens padded to "
            "whole M×M windows, MACs = 3TC² + TM²C (Q·Kᵀ) + TM²C (A·V) + TC²; element-wise: "
            "bias adds, q scaling, the bias table and (when shifted) mask adds on the "
            "scores, softmax 3 per score; no shift where one window spans the map"
        ),
    )
)


def _merge_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    _need(x, 3, "channels-last H×W×C")
    h, w, c = x
    return (-(-h // 2), -(-w // 2), 4 * c)


def _merge_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import PatchMerge

    return PatchMerge()


register(
    OpDef(
        name="patch_merge",
        doc="Concatenate each 2×2 neighbourhood's features: H×W×C → H/2×W/2×4C "
        "(Swin's patch merging, before its norm and linear); odd sizes are zero-padded.",
        category="transformer",
        shape=_merge_shape,
        vshape=array_safe(_merge_shape),
        cost=lambda a, ins, out: Cost(activations=numel(out)),
        module=_merge_module,
        saves=saves_nothing,
        backward=no_macs,
        window=lambda a, ins: Window((2, 2), (2, 2)),
        cost_doc="no weights, no arithmetic; stores its output (torch.cat copies)",
    )
)


# -- layer scale ------------------------------------------------------------------------


def _scale_shape(a: Attrs, ins: list[Shape]) -> Shape:
    (x,) = ins
    if a["axis"] == "channels":
        _need(x, 3, "C×H×W")
    elif not x:
        raise ShapeError("needs an input with a feature dimension")
    return x


def _scale_saves(a: Attrs, ins: list[Shape], out: Shape, need: Need) -> tuple[Saved, ...]:
    """scale · x keeps x for the scale's gradient."""
    return (Saved("input"),) if need.weights else ()


def _scale_module(a: Attrs, ins: list[Shape], out: Shape):
    from ..backend.layers import LayerScale

    channels = a["axis"] == "channels"
    return LayerScale(ins[0][0] if channels else ins[0][-1], a["init"], channels)


register(
    OpDef(
        name="layer_scale",
        doc="Multiply each channel by a learned scale (ConvNeXt's and CaiT's layer scale).",
        category="transformer",
        attrs=(
            Attr("init", FLOAT, 1e-6, "initial value of every scale"),
            Attr("axis", _AXIS, "last", "scale the last dim, or C of C×H×W"),
        ),
        shape=_scale_shape,
        vshape=array_safe(_scale_shape),
        cost=lambda a, ins, out: Cost(
            weights=_normalized(a, ins[0]), elementwise=numel(out), activations=numel(out)
        ),
        module=_scale_module,
        saves=_scale_saves,
        backward=no_macs,
        autocast="promote",  # multiplies by an fp32 parameter
        cost_doc="one learned weight per channel; 1 element-wise multiply per element",
    )
)
