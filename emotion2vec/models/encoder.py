"""The emotion2vec network (data2vec 2.0 audio encoder + optional emotion2vec+ class head).

Written from docs/model.md (the forward pass of the released models, eval mode only). Module
attribute names reproduce the released state-dict names exactly, so a checkpoint loads with a
strict ``load_state_dict`` and every missing/unexpected key is reported.

Batched inference equals one-at-a-time inference: each waveform is normalised over its own
samples, padded frames are zeroed before and after every positional-conv layer, padded keys are
masked in attention and pooling uses valid frames only.

How the layers are computed quickly (oneDNN matmuls on pre-packed weights, the conv front end
as matmuls in blocks of frames, per-head attention on long inputs) lives in fastpath.py; the
arithmetic is the same.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from emotion2vec.models import fastpath

# The released feature extractor: (channels, kernel, stride) of the 7 conv layers.
DEFAULT_CONV_SPEC: Tuple[Tuple[int, int, int], ...] = (
    ((512, 10, 5),) + ((512, 3, 2),) * 4 + ((512, 2, 2),) * 2
)


@dataclass
class EncoderConfig:
    """Every size of the network; read from a checkpoint (config + tensor shapes)."""

    embed_dim: int = 768
    num_heads: int = 12
    depth: int = 8  # main blocks
    prenet_depth: int = 4  # context-encoder blocks
    mlp_dim: int = 3072
    num_extra_tokens: int = 10
    conv_spec: Tuple[Tuple[int, int, int], ...] = DEFAULT_CONV_SPEC
    pos_conv_depth: int = 5
    pos_conv_kernel: int = 19
    pos_conv_groups: int = 16
    alibi_scale_layers: int = 1  # 1: one scale shared by all blocks; else one per block
    norm_eps: float = 1e-5
    normalize: bool = True  # layer-norm the waveform (every released model: true)
    num_classes: int = 0  # 9 for the emotion2vec+ models, 0 for features only

    def to_dict(self) -> dict:
        d = asdict(self)
        d["conv_spec"] = [list(c) for c in self.conv_spec]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "EncoderConfig":
        d = dict(d)
        if "conv_spec" in d:
            d["conv_spec"] = tuple(tuple(int(v) for v in c) for c in d["conv_spec"])
        return cls(**d)


def _holder(name: str, module: nn.Module) -> nn.Module:
    """An empty module holding ``module`` under ``name`` (reproduces nn.Sequential key paths)."""
    h = nn.Module()
    h.add_module(name, module)
    return h


class ConvLayer(nn.Module):
    """Conv1d (no bias, no padding) -> LayerNorm over channels (fp32) -> exact GELU.

    State-dict names: ``0.weight`` (the conv) and ``2.1.weight/bias`` (the norm). Computed in
    channels-last layout as a matmul over unfolded windows (fastpath.conv_layer).
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, eps: float):
        super().__init__()
        self.cin, self.cout, self.kernel, self.stride = cin, cout, kernel, stride
        self.add_module("0", nn.Conv1d(cin, cout, kernel, stride=stride, bias=False))
        self.add_module("2", _holder("1", nn.LayerNorm(cout, eps=eps)))
        self.linear: Optional[nn.Module] = None  # int8: set by Emotion2vecModel

    @property
    def conv(self) -> nn.Conv1d:
        return getattr(self, "0")

    @property
    def norm(self) -> nn.LayerNorm:
        return getattr(getattr(self, "2"), "1")

    def weight_2d(self) -> torch.Tensor:
        # [cout, cin, k] -> [cout, k * cin], matching windows laid out as (k, cin)
        return self.conv.weight.permute(0, 2, 1).reshape(self.cout, -1)

    def norm_gelu(self, y: torch.Tensor) -> torch.Tensor:
        """LayerNorm over channels (fp32) -> exact GELU of the conv output y: [B, T', cout]."""
        y = F.layer_norm(y.float(), (self.cout,), self.norm.weight, self.norm.bias, self.norm.eps)
        return F.gelu(y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, T, cin] channels-last -> [B, T', cout]."""
        return fastpath.conv_layer(self, x)


class LocalEncoder(nn.Module):
    def __init__(self, spec: Sequence[Tuple[int, int, int]], eps: float):
        super().__init__()
        layers, cin = [], 1
        for cout, k, s in spec:
            layers.append(ConvLayer(cin, cout, k, s, eps))
            cin = cout
        self.conv_layers = nn.ModuleList(layers)

        hop, rf = 1, 1
        for _, k, s in reversed(list(spec)):
            rf = (rf - 1) * s + k
        for _, _, s in spec:
            hop *= s
        self.hop, self.receptive_field = hop, rf  # 320 and 400 samples

    def _run(self, wav: torch.Tensor) -> torch.Tensor:
        x = wav.unsqueeze(-1)  # [B, S, 1]
        for layer in self.conv_layers:
            x = layer(x)
        return x

    def forward(self, wav: torch.Tensor, block_samples: Optional[int] = None,
                post=None) -> torch.Tensor:
        """[B, S] -> [B, T, C], or ``post`` of that when given (a per-frame map applied to each
        block). Run in blocks of output frames for bounded memory: see fastpath.in_blocks."""
        return fastpath.in_blocks(self._run, wav, self.hop, self.receptive_field, block_samples,
                                  post)


class PosConvLayer(nn.Module):
    """Grouped Conv1d (same padding, bias) -> LayerNorm without affine -> GELU. Name: ``0``."""

    def __init__(self, dim: int, kernel: int, groups: int, eps: float):
        super().__init__()
        self.add_module("0", nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=groups))
        self.dim, self.eps = dim, eps

    def forward(self, x_cf: torch.Tensor) -> torch.Tensor:
        """x_cf: [B, D, T] -> [B, T, D]."""
        y = getattr(self, "0")(x_cf).transpose(1, 2)
        return F.gelu(F.layer_norm(y, (self.dim,), eps=self.eps))


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = fastpath.apply_linear(self.qkv, x).view(b, n, 3, self.heads, d // self.heads)
        # bias: additive float mask (ALiBi + -inf on padded keys)
        bias = bias.to(qkv.dtype)
        if fastpath.onednn_attention_applies(qkv):
            return fastpath.apply_linear(self.proj, fastpath.attention_onednn(qkv, bias))
        qkv = qkv.permute(2, 0, 3, 1, 4)
        # SDPA's default scale is head_dim ** -0.5, as in the original
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=bias)
        return fastpath.apply_linear(self.proj, y.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fastpath.apply_linear(self.fc2, fastpath.apply_linear(self.fc1, x, gelu=True))


class Block(nn.Module):
    """Post-norm transformer block: x = n1(x + attn(x)); x = n2(x + mlp(x))."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, eps: float):
        super().__init__()
        self.attn = Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, mlp_dim)
        self.norm2 = nn.LayerNorm(dim, eps=eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x + self.attn(x, bias))
        return self.norm2(x + self.mlp(x))


class ContextEncoder(nn.Module):
    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        d = cfg.embed_dim
        self.norm = nn.LayerNorm(d, eps=cfg.norm_eps)
        self.blocks = nn.ModuleList(
            Block(d, cfg.num_heads, cfg.mlp_dim, cfg.norm_eps) for _ in range(cfg.prenet_depth)
        )


def alibi_slopes(heads: int) -> List[float]:
    """ALiBi slopes; for a head count that is not a power of two, the interleaving rule."""

    def pow2(n: int) -> List[float]:
        start = 2.0 ** (-(2.0 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(heads).is_integer():
        return pow2(heads)
    p = 2 ** math.floor(math.log2(heads))
    return pow2(p) + alibi_slopes(2 * p)[0::2][: heads - p]


class AudioEncoder(nn.Module):
    """Everything under ``modality_encoders.AUDIO`` (the decoder is not built)."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        d, c = cfg.embed_dim, cfg.conv_spec[-1][0]
        self.local_encoder = LocalEncoder(cfg.conv_spec, cfg.norm_eps)
        self.project_features = nn.Module()
        self.project_features.add_module("1", nn.LayerNorm(c, eps=cfg.norm_eps))
        self.project_features.add_module("2", nn.Linear(c, d))
        self.relative_positional_encoder = nn.Module()
        for i in range(1, cfg.pos_conv_depth + 1):
            self.relative_positional_encoder.add_module(
                str(i), PosConvLayer(d, cfg.pos_conv_kernel, cfg.pos_conv_groups, cfg.norm_eps)
            )
        self.extra_tokens = nn.Parameter(torch.zeros(1, cfg.num_extra_tokens, d))
        self.alibi_scale = nn.Parameter(torch.ones(cfg.alibi_scale_layers, 1, cfg.num_heads, 1, 1))
        self.context_encoder = ContextEncoder(cfg)


class Emotion2vec(nn.Module):
    """emotion2vec encoder. ``forward`` works on padded batches; see ``features``."""

    def __init__(self, cfg: EncoderConfig):
        super().__init__()
        self.cfg = cfg
        self.modality_encoders = nn.ModuleDict({"AUDIO": AudioEncoder(cfg)})
        self.blocks = nn.ModuleList(
            Block(cfg.embed_dim, cfg.num_heads, cfg.mlp_dim, cfg.norm_eps) for _ in range(cfg.depth)
        )
        self.proj = nn.Linear(cfg.embed_dim, cfg.num_classes) if cfg.num_classes > 0 else None
        self._slopes = alibi_slopes(cfg.num_heads)

    # -- sizes -----------------------------------------------------------------------------
    @property
    def num_layers(self) -> int:
        return self.cfg.prenet_depth + self.cfg.depth

    def num_frames(self, num_samples: int) -> int:
        t = int(num_samples)
        for _, k, s in self.cfg.conv_spec:
            t = (t - k) // s + 1 if t >= k else 0
        return max(t, 0)

    @property
    def receptive_field(self) -> int:
        """Fewest samples that give one frame (400 for the released models)."""
        r = 1
        for _, k, s in reversed(self.cfg.conv_spec):
            r = (r - 1) * s + k
        return r

    # -- pieces ------------------------------------------------------------------------------
    def _bias(self, t: int, valid: Optional[torch.Tensor], layer: int, dtype, device):
        """[B|1, H, E+T, E+T] additive attention mask for block ``layer`` (0-based)."""
        enc = self.modality_encoders["AUDIO"]
        e = self.cfg.num_extra_tokens
        pos = torch.arange(t, device=device)
        dist = -(pos[None, :] - pos[:, None]).abs().to(torch.float32)
        scale = enc.alibi_scale.clamp_min(0).float()
        scale = scale[layer if scale.shape[0] > 1 else 0].view(-1, 1, 1)
        slopes = torch.tensor(self._slopes, dtype=torch.float32, device=device)
        bias = (slopes[:, None, None] * dist[None]) * scale
        bias = F.pad(bias, (e, 0, e, 0))[None]  # zero bias for the extra tokens
        if valid is not None:  # [B, T] bool: -inf on padded keys, never on extra tokens
            keymask = torch.zeros(valid.shape[0], e + t, device=device, dtype=torch.float32)
            keymask[:, e:].masked_fill_(~valid, float("-inf"))
            bias = bias + keymask[:, None, None, :]
        return bias.to(dtype)

    def forward(
        self,
        wav: torch.Tensor,
        lengths: Optional[torch.Tensor] = None,
        layers: Optional[Sequence[int]] = None,
        normalize: Optional[bool] = None,
    ):
        """wav: [B, S] float32 (zero padded); lengths: [B] samples (None: all full length).

        Returns (x [B, T, D] last-block output, valid [B, T] bool, {k: [B, T, D]} for each
        1-based block index in ``layers``). The waveform normalisation is applied here unless
        ``normalize`` is False (input already normalised, e.g. chunks of a long recording).
        """
        cfg, enc = self.cfg, self.modality_encoders["AUDIO"]
        b, s = wav.shape
        if lengths is None:
            lengths = torch.full((b,), s, dtype=torch.long)
        lengths = [int(n) for n in torch.as_tensor(lengths).cpu()]  # host ints: one GPU sync
        padded = any(n < s for n in lengths)
        if cfg.normalize if normalize is None else normalize:
            if padded:
                rows = [F.layer_norm(wav[i, :n], (n,)) for i, n in enumerate(lengths)]
                wav = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True)
                wav = F.pad(wav, (0, s - wav.shape[1]))
            else:
                wav = F.layer_norm(wav, (s,))
        pf = enc.project_features
        # conv front end + LayerNorm + projection, per block of frames: [B, T, D]
        x = enc.local_encoder(
            wav, post=lambda y: fastpath.apply_linear(getattr(pf, "2"), getattr(pf, "1")(y)))
        t = x.shape[1]
        frames = torch.tensor([self.num_frames(n) for n in lengths], device=x.device)
        valid = torch.arange(t, device=x.device)[None, :] < frames[:, None]
        vmask = valid[:, :, None].to(x.dtype) if padded else None

        # positional conv stack on zero-padded frames (as if each utterance were alone)
        h = x if vmask is None else x * vmask
        for layer in enc.relative_positional_encoder.children():
            h = layer(h.transpose(1, 2))
            if vmask is not None:
                h = h * vmask
        x = x + h

        x = torch.cat([enc.extra_tokens.to(x.dtype).expand(b, -1, -1), x], dim=1)
        x = enc.context_encoder.norm(x)
        all_blocks = list(enc.context_encoder.blocks) + list(self.blocks)
        want = set(layers or ())
        out = {}
        bias = None
        e = cfg.num_extra_tokens
        for i, blk in enumerate(all_blocks):
            if bias is None or cfg.alibi_scale_layers > 1:
                bias = self._bias(t, valid if padded else None, i, torch.float32, x.device)
            x = blk(x, bias)
            if i + 1 in want:
                out[i + 1] = x[:, e:]
        return x[:, e:], valid, out

    def pool(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Mean over valid frames: [B, T, D] -> [B, D]."""
        w = valid.to(x.dtype)[:, :, None]
        return (x * w).sum(1) / w.sum(1).clamp_min(1)

    def posteriors(self, pooled: torch.Tensor) -> torch.Tensor:
        if self.proj is None:
            raise RuntimeError("this model has no class head")
        return torch.softmax(self.proj(pooled).float(), dim=-1)
