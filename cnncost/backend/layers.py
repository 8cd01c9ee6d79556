"""The few torch modules that torch.nn lacks as modules: the multi-input merges and the
channel tricks of ShuffleNet. Imported only by op builders, so only with torch present."""

from __future__ import annotations

import torch
from torch import nn


class Add(nn.Module):
    """Sum of its inputs; in place writes into the first, as torchvision's `out += identity`."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, first: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        out = first.add_(rest[0]) if self.inplace else first + rest[0]
        for other in rest[1:]:
            out += other
        return out


class Multiply(nn.Module):
    """Product of its inputs with broadcasting (a squeeze-excite gate times its features)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, first: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        out = first.mul_(rest[0]) if self.inplace else first * rest[0]
        for other in rest[1:]:
            out = out * other
        return out


class Concat(nn.Module):
    """torch.cat along a PyTorch dim (1 = channels)."""

    def __init__(self, dim: int = 1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, dim=self.dim)


class ChannelSplit(nn.Module):
    """One of `parts` equal channel slices: a view, as ShuffleNetV2's x.chunk(2, dim=1)."""

    def __init__(self, parts: int, index: int) -> None:
        super().__init__()
        self.parts, self.index = parts, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.chunk(self.parts, dim=1)[self.index]


class ChannelShuffle(nn.Module):
    """Interleave channels across groups: reshape, transpose, flatten (as torchvision)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, *rest = x.shape
        x = x.view(n, self.groups, c // self.groups, *rest).transpose(1, 2).contiguous()
        return x.view(n, c, *rest)


class DeformConv2d(nn.Module):
    """Deformable convolution in plain torch (Dai et al. 2017; modulated: DCNv2).

    `conv_offset` predicts, at every output position, a (dy, dx) pair per kernel tap and
    offset group (then, when modulated, a modulation logit per tap and group), laid out as
    torchvision.ops.deform_conv2d expects its offset and mask. The input is sampled bilinearly
    at the shifted taps with grid_sample (zeros outside the image, as the zero padding of an
    ordinary conv), and the main conv is one matrix product over the sampled columns, so
    torch's FlopCounterMode counts exactly the two convs' multiply-accumulates. The offset
    conv starts at zero, as in the paper: the layer begins as an ordinary convolution.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: tuple[int, int],
        stride: tuple[int, int] = (1, 1),
        padding: tuple[int, int] | str = (0, 0),
        dilation: tuple[int, int] = (1, 1),
        groups: int = 1,
        bias: bool = True,
        offset_groups: int = 1,
        modulated: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel, self.stride, self.dilation = tuple(kernel), tuple(stride), tuple(dilation)
        self.groups, self.offset_groups, self.modulated = groups, offset_groups, modulated
        if padding == "valid":
            self.pad = (0, 0)
        elif padding == "same":  # PyTorch's rule: the odd padding unit goes after
            pairs = zip(self.dilation, self.kernel, strict=True)
            self.pad = tuple(d * (k - 1) // 2 for d, k in pairs)
        else:
            self.pad = tuple(padding)
        kh, kw = self.kernel
        # A conv2d of the same shape provides PyTorch's default initialisation.
        template = nn.Conv2d(in_channels, out_channels, kernel, groups=groups, bias=bias)
        self.weight = nn.Parameter(template.weight.detach().clone())
        self.bias = nn.Parameter(template.bias.detach().clone()) if bias else None
        taps = kh * kw
        self.conv_offset = nn.Conv2d(
            in_channels,
            (3 if modulated else 2) * offset_groups * taps,
            kernel,
            stride=stride,
            padding=padding,
            dilation=dilation,
            bias=True,
        )
        nn.init.zeros_(self.conv_offset.weight)
        nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = self.kernel, self.stride, self.pad, self.dilation
        g, taps = self.offset_groups, kh * kw
        field = self.conv_offset(x)
        ho, wo = field.shape[-2:]
        offset = field[:, : 2 * g * taps].reshape(n, g, taps, 2, ho, wo)
        # Where each tap of each output position reads, before the offsets (input pixels).
        opts = {"device": x.device, "dtype": x.dtype}
        tap_y = (torch.arange(kh, **opts) * dh).repeat_interleave(kw).view(taps, 1, 1)
        tap_x = (torch.arange(kw, **opts) * dw).repeat(kh).view(taps, 1, 1)
        rows = (torch.arange(ho, **opts) * sh - ph).view(1, ho, 1)
        cols = (torch.arange(wo, **opts) * sw - pw).view(1, 1, wo)
        y = tap_y + rows + offset[:, :, :, 0]  # n × g × taps × ho × wo
        xx = tap_x + cols + offset[:, :, :, 1]
        # grid_sample's coordinates with align_corners=False: pixel i sits at (2i + 1)/size - 1.
        grid = torch.stack(((2 * xx + 1) / w - 1, (2 * y + 1) / h - 1), dim=-1)
        sampled = nn.functional.grid_sample(
            x.reshape(n * g, c // g, h, w),
            grid.reshape(n * g, taps, ho * wo, 2),
            mode="bilinear",
            padding_mode="zeros",
            align_corners=False,
        )  # (n·g) × (c/g) × taps × (ho·wo)
        sampled = sampled.reshape(n, g, c // g, taps, ho * wo)
        if self.modulated:
            mask = torch.sigmoid(field[:, 2 * g * taps :]).reshape(n, g, 1, taps, ho * wo)
            sampled = sampled * mask
        groups = self.groups
        columns = sampled.reshape(n, groups, (c // groups) * taps, ho * wo)
        weight = self.weight.reshape(groups, self.out_channels // groups, -1)
        out = torch.matmul(weight, columns).reshape(n, self.out_channels, ho, wo)
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1)
        return out


# -- transformer ops (cnncost/ops/transformer.py) --------------------------------------------


class Permute(nn.Module):
    """torch.permute by PyTorch dims, as torchvision.ops.misc.Permute."""

    def __init__(self, dims) -> None:
        super().__init__()
        self.dims = list(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)


class LayerNorm2d(nn.LayerNorm):
    """Layer norm over the channels of N×C×H×W, as torchvision's ConvNeXt LayerNorm2d."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class ClassToken(nn.Module):
    """Prepend a learned token to a batch of sequences, as torchvision's ViT."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)


class PositionEmbedding(nn.Module):
    """Add a learned embedding of the per-sample shape, as torchvision ViT's pos_embedding."""

    def __init__(self, shape) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.empty(1, *shape).normal_(std=0.02))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pos_embedding


class SelectToken(nn.Module):
    """x[:, index]: one token of each sequence (ViT's class token); a view."""

    def __init__(self, index: int = 0) -> None:
        super().__init__()
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.index]


class MultiheadSelfAttention(nn.Module):
    """Self-attention with nn.MultiheadAttention's parameters (in_proj_weight, in_proj_bias,
    out_proj), written with explicit matrix products so that FlopCounterMode sees Q·Kᵀ and
    A·V (nn.MultiheadAttention's fused inference path hides them from the counter)."""

    def __init__(self, dim: int, heads: int, bias: bool = True) -> None:
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim)) if bias else None
        self.out_proj = nn.Linear(dim, dim, bias=bias)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = nn.functional.linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = qkv.reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q = q * (d // self.heads) ** -0.5
        attn = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
        context = (attn @ v).transpose(1, 2).reshape(b, n, d)
        return self.out_proj(context)


class ShiftedWindowAttention(nn.Module):
    """Swin's (shifted) window attention with relative position bias on N×H×W×C, as
    torchvision's ShiftedWindowAttention (v1): the same parameters, buffer and arithmetic."""

    def __init__(
        self,
        dim: int,
        window: list[int],
        shift: list[int],
        heads: int,
        qkv_bias: bool = True,
        proj_bias: bool = True,
    ) -> None:
        super().__init__()
        self.window, self.shift, self.heads = list(window), list(shift), heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        mh, mw = self.window
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * mh - 1) * (2 * mw - 1), heads)
        )
        coords = torch.stack(torch.meshgrid(torch.arange(mh), torch.arange(mw), indexing="ij"))
        coords = torch.flatten(coords, 1)
        relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
        relative[:, :, 0] += mh - 1
        relative[:, :, 1] += mw - 1
        relative[:, :, 0] *= 2 * mw - 1
        self.register_buffer("relative_position_index", relative.sum(-1).flatten())
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, c = x.shape
        (mh, mw), heads = self.window, self.heads
        x = nn.functional.pad(x, (0, 0, 0, (mw - w % mw) % mw, 0, (mh - h % mh) % mh))
        _, ph, pw, _ = x.shape
        sh = self.shift[0] if mh < ph else 0
        sw = self.shift[1] if mw < pw else 0
        if sh + sw > 0:
            x = torch.roll(x, shifts=(-sh, -sw), dims=(1, 2))
        windows, n = (ph // mh) * (pw // mw), mh * mw
        x = x.view(b, ph // mh, mh, pw // mw, mw, c).permute(0, 1, 3, 2, 4, 5)
        x = x.reshape(b * windows, n, c)
        qkv = self.qkv(x).reshape(b * windows, n, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * (c // heads) ** -0.5).matmul(k.transpose(-2, -1))
        bias = self.relative_position_bias_table[self.relative_position_index]
        attn = attn + bias.view(n, n, -1).permute(2, 0, 1).contiguous().unsqueeze(0)
        if sh + sw > 0:
            mask = x.new_zeros((ph, pw))
            count = 0
            for hs in ((0, -mh), (-mh, -sh), (-sh, None)):
                for ws in ((0, -mw), (-mw, -sw), (-sw, None)):
                    mask[hs[0] : hs[1], ws[0] : ws[1]] = count
                    count += 1
            mask = mask.view(ph // mh, mh, pw // mw, mw).permute(0, 2, 1, 3).reshape(windows, n)
            mask = mask.unsqueeze(1) - mask.unsqueeze(2)
            mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
            attn = attn.view(b, windows, heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, heads, n, n)
        attn = torch.softmax(attn, dim=-1)
        x = attn.matmul(v).transpose(1, 2).reshape(b * windows, n, c)
        x = self.proj(x)
        x = x.view(b, ph // mh, pw // mw, mh, mw, c).permute(0, 1, 3, 2, 4, 5)
        x = x.reshape(b, ph, pw, c)
        if sh + sw > 0:
            x = torch.roll(x, shifts=(sh, sw), dims=(1, 2))
        return x[:, :h, :w, :].contiguous()


class PatchMerge(nn.Module):
    """Swin's patch-merging gather: each 2×2 neighbourhood's features side by side, as
    torchvision's PatchMerging does before its norm and reduction (odd sizes zero-padded)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-3], x.shape[-2]
        x = nn.functional.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        parts = [x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :]]
        parts += [x[..., 0::2, 1::2, :], x[..., 1::2, 1::2, :]]
        return torch.cat(parts, -1)


class LayerScale(nn.Module):
    """A learned scale per channel (ConvNeXt's layer_scale, shape C×1×1 on C×H×W)."""

    def __init__(self, dim: int, init: float, channels_first: bool) -> None:
        super().__init__()
        shape = (dim, 1, 1) if channels_first else (dim,)
        self.layer_scale = nn.Parameter(torch.full(shape, float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_scale * x
