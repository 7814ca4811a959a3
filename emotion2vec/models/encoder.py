"""The emotion2vec network (data2vec 2.0 audio encoder + optional emotion2vec+ class head).

Written from docs/model.md (the forward pass of the released models, eval mode only). Module
attribute names reproduce the released state-dict names exactly, so a checkpoint loads with a
strict ``load_state_dict`` and every missing/unexpected key is reported.

Batched inference equals one-at-a-time inference: each waveform is normalised over its own
samples, padded frames are zeroed before and after every positional-conv layer, padded keys are
masked in attention and pooling uses valid frames only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

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


def _probe_onednn():
    """oneDNN's fp32 matmul op, or None where this torch build lacks it or it fails."""
    try:
        op = torch.ops.mkldnn._linear_pointwise
        if not torch.backends.mkldnn.is_available():
            return None
        op(torch.ones(2, 3), torch.ones(4, 3), None, "none", [], "")
        return op
    except Exception:  # any failure of the probe: use F.linear
        return None


_ONEDNN_LINEAR = _probe_onednn()
use_onednn = True  # set False to run every matmul through F.linear (benchmarks compare both)


def _fast_cpu(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """True where the oneDNN path applies: CPU fp32 inference (no autograd graph to keep)."""
    return (use_onednn and _ONEDNN_LINEAR is not None and x.device.type == "cpu"
            and x.dtype == torch.float32 and weight.dtype == torch.float32
            and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad)))


class _DerivedCache(dict):
    """Tensors derived from a module's parameters (pre-packed or folded weights). Never
    copied or pickled with the module: a copy re-derives them from its own parameters."""

    def __deepcopy__(self, memo):
        return _DerivedCache()

    def __reduce__(self):
        return (_DerivedCache, ())


def derived(owner: nn.Module, name: str, make, *sources: torch.Tensor):
    """``make()``, computed once and kept on ``owner`` until one of ``sources`` changes (new
    tensor, in-place update, device or dtype): a checkpoint loaded later is never served stale
    weights."""
    key = tuple((t.data_ptr(), t._version, t.device, t.dtype) for t in sources)
    cache = owner.__dict__.get("_derived")
    if cache is None:
        cache = owner.__dict__["_derived"] = _DerivedCache()
    hit = cache.get(name)
    if hit is None or hit[0] != key:
        with torch.no_grad():
            hit = cache[name] = (key, make())
    return hit[1]


def pack(weight: torch.Tensor) -> torch.Tensor:
    """``weight`` [out, in] in oneDNN's blocked matmul layout. oneDNN otherwise re-lays the
    plain matrix out on every call: pre-packed, the encoder's matmuls run 3-20 % faster (more at
    small M); the same fp32 arithmetic, bit-identical results. Costs a second copy of the
    weights in memory."""
    if _PACKING is None:
        return weight.contiguous()
    return _PACKING(weight.contiguous(), 512)


def _probe_packing():
    """oneDNN's weight packing op, or None where this torch build lacks it or it fails."""
    try:
        op = torch.ops.mkldnn._reorder_linear_weight
        w = op(torch.ones(4, 3), 2)
        if _ONEDNN_LINEAR is None or w.layout != torch._mkldnn:
            return None
        _ONEDNN_LINEAR(torch.ones(2, 3), w, None, "none", [], "")
        return op
    except Exception:  # any failure of the probe: plain weights
        return None


_PACKING = _probe_packing()


def linear(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
           gelu: bool = False) -> torch.Tensor:
    """F.linear, optionally followed by exact GELU. ``weight``: [out, in], or ``pack(w)``.

    On CPU in fp32 inference this goes through oneDNN's matmul (with the GELU fused), which runs
    near the CPU's peak where the MKL sgemm behind F.linear does not: on the 2-core AVX-512 AMD
    machines this project measures on, 180-195 vs 110-145 GFLOP/s for the encoder's shapes.
    Same fp32 arithmetic (no reduced-precision accumulation).
    """
    packed = weight.layout == torch._mkldnn
    if packed or _fast_cpu(x, weight):
        # a strided operand (e.g. a column slice) sends oneDNN to a reference kernel ~100x
        # slower; a copy costs far less than the matmul
        x = x.contiguous()
        w = weight if packed else weight.contiguous()
        if gelu:
            return _ONEDNN_LINEAR(x, w, bias, "gelu", [], "none")
        return _ONEDNN_LINEAR(x, w, bias, "none", [], "")
    y = F.linear(x, weight, bias)
    return F.gelu(y) if gelu else y


def apply_linear(mod: nn.Module, x: torch.Tensor, gelu: bool = False) -> torch.Tensor:
    """``mod(x)`` (+ GELU) through ``linear`` when ``mod`` is a plain nn.Linear (pre-packed
    on the oneDNN path); an int8 dynamically quantised Linear runs its own kernel."""
    if type(mod) is nn.Linear:
        w = mod.weight
        if _fast_cpu(x, w):
            w = derived(mod, "packed", lambda: pack(mod.weight), mod.weight)
        return linear(x, w, mod.bias, gelu)
    y = mod(x)
    return F.gelu(y) if gelu else y


def _holder(name: str, module: nn.Module) -> nn.Module:
    """An empty module holding ``module`` under ``name`` (reproduces nn.Sequential key paths)."""
    h = nn.Module()
    h.add_module(name, module)
    return h


class ConvLayer(nn.Module):
    """Conv1d (no bias, no padding) -> LayerNorm over channels (fp32) -> exact GELU.

    State-dict names: ``0.weight`` (the conv) and ``2.1.weight/bias`` (the norm). Computed in
    channels-last layout as a matmul over unfolded windows (faster on CPU than Conv1d, and the
    LayerNorm then needs no transposes).
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, eps: float):
        super().__init__()
        self.cin, self.cout, self.kernel, self.stride = cin, cout, kernel, stride
        self.add_module("0", nn.Conv1d(cin, cout, kernel, stride=stride, bias=False))
        self.add_module("2", _holder("1", nn.LayerNorm(cout, eps=eps)))
        self.linear: Optional[nn.Module] = None  # set by prepare_inference()

    @property
    def conv(self) -> nn.Conv1d:
        return getattr(self, "0")

    @property
    def norm(self) -> nn.LayerNorm:
        return getattr(getattr(self, "2"), "1")

    def weight_2d(self) -> torch.Tensor:
        # [cout, cin, k] -> [cout, k * cin], matching windows laid out as (k, cin)
        return self.conv.weight.permute(0, 2, 1).reshape(self.cout, -1)

    def _matmul(self, x: torch.Tensor, name: str, make) -> torch.Tensor:
        """x @ make().T, with make() a matrix derived from the conv weight: on the oneDNN path
        derived and packed once (not re-derived on every block of every call)."""
        w = self.conv.weight
        if _fast_cpu(x, w):
            return linear(x, derived(self, name, lambda: pack(make()), w))
        return linear(x, make())

    def _finish(self, y: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(y.float(), (self.cout,), self.norm.weight, self.norm.bias, self.norm.eps)
        return F.gelu(y)

    def _folded(self):
        """(C, diag(g) W') for ``_norm_folded``, computed once in float64."""
        w = self.weight_2d().double()  # [cout, K]
        wc = w - w.mean(0)  # channel mean removed: W'x = y - mean_c(y)
        cov = wc.T @ wc / self.cout  # x^T cov x = var_c(y)
        scaled = self.norm.weight.double()[:, None] * wc
        return cov.float(), pack(scaled.float())

    def _norm_folded(self, win: torch.Tensor) -> torch.Tensor:
        """Conv + LayerNorm + GELU of a layer with few inputs per window (the first: 10
        samples) as one matmul with fused bias and GELU. With y = Wx, LayerNorm over the channels
        is (W - 1 m^T) x * rstd * g + b, m the mean row of W, and var_c(y) = x^T C x with C the
        K x K covariance of the centred rows; so the window is scaled by rstd (K values) and
        multiplied by diag(g)(W - 1 m^T). The 512-channel output is written once instead of
        being read and rewritten by a LayerNorm and a GELU pass (5x faster on 2 cores)."""
        cov, w = derived(self, "folded", self._folded, self.conv.weight, self.norm.weight)
        var = (linear(win, cov) * win).sum(-1, keepdim=True)
        return linear(win * torch.rsqrt(var + self.norm.eps), w, self.norm.bias, gelu=True)

    def _overlapping(self, x: torch.Tensor, n: int) -> torch.Tensor:
        """Kernel 2s-1 (the (3, 2) layers) without materialising the windows: output t = frames
        ts..ts+s-1 (a free view of the input as rows of s frames) times the first s taps, plus
        frame (t+1)s times the last s-1 taps. Every frame read exists, so nothing is padded."""
        b, t, c = x.shape
        s = self.stride
        x = x.contiguous()
        head = self._matmul(x[:, : n * s].reshape(b, n, s * c), "head", self._w_head)
        # frames (t+1)s .. (t+1)s+s-2 for each t: rows of s-1 frames every s frames (the last
        # frame read, ns+s-2, exists since T >= (n-1)s + k)
        nxt = x.as_strided((b, n, (s - 1) * c), (x.stride(0), s * c, 1), x.storage_offset() + s * c)
        tail = self._matmul(nxt, "tail", self._w_tail)
        return self._finish(head.add_(tail))

    def _w_head(self) -> torch.Tensor:  # the first s taps, laid out as the rows of s frames
        return self.conv.weight[:, :, : self.stride].permute(0, 2, 1).reshape(self.cout, -1)

    def _w_tail(self) -> torch.Tensor:  # the last s-1 taps
        return self.conv.weight[:, :, self.stride:].permute(0, 2, 1).reshape(self.cout, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, T, cin] channels-last -> [B, T', cout]."""
        b, t, c = x.shape
        n = (t - self.kernel) // self.stride + 1
        if self.linear is None and self.kernel == 2 * self.stride - 1 and c > 1:
            return self._overlapping(x, n)
        if self.kernel == self.stride:
            # non-overlapping windows: a free reshape
            win = x[:, : n * self.stride].reshape(b, n, self.kernel * c)
        else:
            # windows [B, n, k, C] as a strided view, made contiguous once for the matmul
            win = x.as_strided(
                (b, n, self.kernel, c), (x.stride(0), self.stride * c, c, 1)
            ).reshape(b, n, self.kernel * c)
        if self.linear is not None:
            return self._finish(self.linear(win))
        if self.kernel * c <= 32 and _fast_cpu(win, self.conv.weight):
            return self._norm_folded(win)
        return self._finish(self._matmul(win, "w2d", self.weight_2d))


ROUND_FRAMES = 8  # CPU front-end blocks compute a multiple of this many frames (see forward)


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
        block). Processed in blocks of output frames (each block reads exactly the samples its
        frames cover: same result), so the large first-layer activations stay near 0.4 KB x
        ``block_samples`` instead of growing with the batch. Default: 48,000 samples on CPU
        (~20 MB: the elementwise passes then run 3-5x faster than on the fresh, page-faulting
        buffers of whole utterances; measured best on 2 cores against 32,000 and 64,000),
        240,000 (~100 MB) elsewhere.

        On CPU a block computes a multiple of ``ROUND_FRAMES`` frames (zero samples appended,
        the extra frames dropped): oneDNN generates a kernel for each new matrix shape (~1-2 ms
        each, a dozen per block), so a corpus of all-different lengths would pay that on every
        utterance; with rounded blocks the shapes repeat and their kernels are reused."""
        cpu = wav.device.type == "cpu"
        if block_samples is None:
            block_samples = 48_000 if cpu else 240_000
        b, n = wav.shape
        total = (n - self.receptive_field) // self.hop + 1 if n >= self.receptive_field else 0
        per_block = max(16, block_samples // max(1, b) // self.hop)
        q = ROUND_FRAMES if cpu else 1
        if total == 0:
            y = self._run(wav)
            return y if post is None else post(y)
        out = None
        for f0 in range(0, total, per_block):
            f1 = min(total, f0 + per_block)
            m = -(-(f1 - f0) // q) * q  # frames to compute
            s0, s1 = f0 * self.hop, (f0 + m - 1) * self.hop + self.receptive_field
            seg = wav[:, s0:s1]
            if seg.shape[1] < s1 - s0:
                seg = F.pad(seg, (0, s1 - s0 - seg.shape[1]))
            y = self._run(seg)
            if post is not None:
                y = post(y)
            y = y[:, : f1 - f0]
            if f1 - f0 == total:  # one block
                return y
            if out is None:
                out = y.new_empty(b, total, y.shape[-1])
            out[:, f0:f1] = y
        return out


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


# From this many tokens on, CPU fp32 attention runs as per-head oneDNN matmuls (see
# attention_onednn); below, SDPA's fused kernel is faster (per-call overheads dominate).
# Crossover measured on 2 cores (AMD Zen 5) at 330-360 tokens.
ONEDNN_ATTENTION_MIN_TOKENS = 352


def attention_onednn(qkv: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(dh) + bias) v, head by head through oneDNN's matmul.

    qkv: [B, N, 3, H, dh]; bias: [B|1, H, N, N] additive float mask -> [B, N, H * dh]. SDPA's
    CPU kernel reaches ~100 GFLOP/s on these shapes; oneDNN's matmuls run near the CPU's peak.
    One head's [N, N] scores (1 MB at 10 s) stay in cache from the scores matmul through the
    softmax (in place) to the matmul with v: 25-35 % faster than SDPA at 500-750 tokens."""
    b, n, _, h, dh = qkv.shape
    x = qkv.permute(0, 2, 3, 1, 4).contiguous()  # [B, 3, H, N, dh]: every head contiguous
    q = x[:, 0].mul_(dh ** -0.5)  # SDPA's default scale
    vt = x[:, 2].transpose(-1, -2).contiguous()  # [B, H, dh, N]: v^T as oneDNN's weight
    out = qkv.new_empty(b, n, h, dh)
    for i in range(b):
        bi = bias[i if bias.shape[0] > 1 else 0]
        for j in range(h):
            s = _ONEDNN_LINEAR(q[i, j], x[i, 1, j], None, "none", [], "").add_(bi[j])
            torch.softmax(s, -1, out=s)
            out[i, :, j] = _ONEDNN_LINEAR(s, vt[i, j], None, "none", [], "")
    return out.view(b, n, h * dh)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = apply_linear(self.qkv, x).view(b, n, 3, self.heads, d // self.heads)
        if n >= ONEDNN_ATTENTION_MIN_TOKENS and _fast_cpu(qkv, qkv):
            return apply_linear(self.proj, attention_onednn(qkv, bias.to(qkv.dtype)))
        qkv = qkv.permute(2, 0, 3, 1, 4)
        # bias: additive float mask (ALiBi + -inf on padded keys); SDPA's default scale is
        # head_dim ** -0.5, as in the original.
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=bias.to(qkv.dtype))
        return apply_linear(self.proj, y.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_linear(self.fc2, apply_linear(self.fc1, x, gelu=True))


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
            wav, post=lambda y: apply_linear(getattr(pf, "2"), getattr(pf, "1")(y)))
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
