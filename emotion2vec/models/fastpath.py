"""The encoder's fast paths: how encoder.py's layers are computed quickly, not what they compute.

encoder.py calls in here for its matmuls, its conv front end and its attention; this module
imports nothing of it (the layers it is handed are duck-typed). Every path does the same fp32
arithmetic as the plain one (no reduced-precision accumulation): the tests in tests/models
compare the paths with each other and with the FunASR reference.

On CPU in fp32 inference the matmuls go through oneDNN's private ops (``torch.ops.mkldnn``,
probed once at import; where missing or failing, F.linear) with weights pre-packed into
oneDNN's blocked layout, the first conv layer runs with its LayerNorm folded into one matmul,
and long inputs run attention head by head through oneDNN. On every device the conv front end
runs as matmuls over unfolded windows, in blocks of frames (bounded memory).
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn


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


# -- weights derived from the parameters ------------------------------------------------------
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


def prepack_weight(weight: torch.Tensor) -> torch.Tensor:
    """``weight`` [out, in] in oneDNN's blocked matmul layout. oneDNN otherwise re-lays the
    plain matrix out on every call: pre-packed, the encoder's matmuls run 3-20 % faster (more at
    small M); the same fp32 arithmetic, bit-identical results. Costs a second copy of the
    weights in memory."""
    if _PACKING is None:
        return weight.contiguous()
    return _PACKING(weight.contiguous(), 512)


# -- matmuls -----------------------------------------------------------------------------------
def linear(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor] = None,
           gelu: bool = False) -> torch.Tensor:
    """F.linear, optionally followed by exact GELU. ``weight``: [out, in], or
    ``prepack_weight(w)``.

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
            w = derived(mod, "packed", lambda: prepack_weight(mod.weight), mod.weight)
        return linear(x, w, mod.bias, gelu)
    y = mod(x)
    return F.gelu(y) if gelu else y


# -- conv front end ------------------------------------------------------------------------------
def conv_layer(layer, x: torch.Tensor) -> torch.Tensor:
    """``layer`` (an encoder.ConvLayer) on x: [B, T, cin] channels-last -> [B, T', cout].

    Computed as a matmul over unfolded windows (faster on CPU than Conv1d, and the LayerNorm
    then needs no transposes); with ``layer.linear`` set (int8) the windows go through it."""
    b, t, c = x.shape
    k, s = layer.kernel, layer.stride
    n = (t - k) // s + 1
    if layer.linear is None and k == 2 * s - 1 and c > 1:
        return _overlapping(layer, x, n)
    if k == s:
        # non-overlapping windows: a free reshape
        win = x[:, : n * s].reshape(b, n, k * c)
    else:
        # windows [B, n, k, C] as a strided view, made contiguous once for the matmul
        win = x.as_strided((b, n, k, c), (x.stride(0), s * c, c, 1)).reshape(b, n, k * c)
    if layer.linear is not None:
        return layer.norm_gelu(layer.linear(win))
    if k * c <= 32 and _fast_cpu(win, layer.conv.weight):
        return _norm_folded(layer, win)
    return layer.norm_gelu(_conv_matmul(layer, win, "w2d", layer.weight_2d))


def _conv_matmul(layer, x: torch.Tensor, name: str, make) -> torch.Tensor:
    """x @ make().T, with make() a matrix derived from the conv weight: on the oneDNN path
    derived and packed once (not re-derived on every block of every call)."""
    w = layer.conv.weight
    if _fast_cpu(x, w):
        return linear(x, derived(layer, name, lambda: prepack_weight(make()), w))
    return linear(x, make())


def _folded(layer):
    """(C, diag(g) W') for ``_norm_folded``, computed once in float64."""
    w = layer.weight_2d().double()  # [cout, K]
    wc = w - w.mean(0)  # channel mean removed: W'x = y - mean_c(y)
    cov = wc.T @ wc / layer.cout  # x^T cov x = var_c(y)
    scaled = layer.norm.weight.double()[:, None] * wc
    return cov.float(), prepack_weight(scaled.float())


def _norm_folded(layer, win: torch.Tensor) -> torch.Tensor:
    """Conv + LayerNorm + GELU of a layer with few inputs per window (the first: 10
    samples) as one matmul with fused bias and GELU. With y = Wx, LayerNorm over the channels
    is (W - 1 m^T) x * rstd * g + b, m the mean row of W, and var_c(y) = x^T C x with C the
    K x K covariance of the centred rows; so the window is scaled by rstd (K values) and
    multiplied by diag(g)(W - 1 m^T). The 512-channel output is written once instead of
    being read and rewritten by a LayerNorm and a GELU pass (5x faster on 2 cores)."""
    cov, w = derived(layer, "folded", lambda: _folded(layer), layer.conv.weight,
                     layer.norm.weight)
    var = (linear(win, cov) * win).sum(-1, keepdim=True)
    return linear(win * torch.rsqrt(var + layer.norm.eps), w, layer.norm.bias, gelu=True)


def _overlapping(layer, x: torch.Tensor, n: int) -> torch.Tensor:
    """Kernel 2s-1 (the (3, 2) layers) without materialising the windows: output t = frames
    ts..ts+s-1 (a free view of the input as rows of s frames) times the first s taps, plus
    frame (t+1)s times the last s-1 taps. Every frame read exists, so nothing is padded."""
    b, t, c = x.shape
    s, cout, weight = layer.stride, layer.cout, layer.conv.weight
    x = x.contiguous()

    def w_head():  # the first s taps, laid out as the rows of s frames
        return weight[:, :, :s].permute(0, 2, 1).reshape(cout, -1)

    def w_tail():  # the last s-1 taps
        return weight[:, :, s:].permute(0, 2, 1).reshape(cout, -1)

    head = _conv_matmul(layer, x[:, : n * s].reshape(b, n, s * c), "head", w_head)
    # frames (t+1)s .. (t+1)s+s-2 for each t: rows of s-1 frames every s frames (the last
    # frame read, ns+s-2, exists since T >= (n-1)s + k)
    nxt = x.as_strided((b, n, (s - 1) * c), (x.stride(0), s * c, 1), x.storage_offset() + s * c)
    tail = _conv_matmul(layer, nxt, "tail", w_tail)
    return layer.norm_gelu(head.add_(tail))


ROUND_FRAMES = 8  # CPU front-end blocks compute a multiple of this many frames (see in_blocks)


def in_blocks(run: Callable[[torch.Tensor], torch.Tensor], wav: torch.Tensor, hop: int,
              receptive_field: int, block_samples: Optional[int] = None,
              post=None) -> torch.Tensor:
    """``run`` (the conv front end: [B, S] -> [B, T, C]) on ``wav``, then ``post`` (a per-frame
    map) when given, in blocks of output frames (each block reads exactly the samples its
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
    total = (n - receptive_field) // hop + 1 if n >= receptive_field else 0
    per_block = max(16, block_samples // max(1, b) // hop)
    q = ROUND_FRAMES if cpu else 1
    if total == 0:
        y = run(wav)
        return y if post is None else post(y)
    out = None
    for f0 in range(0, total, per_block):
        f1 = min(total, f0 + per_block)
        m = -(-(f1 - f0) // q) * q  # frames to compute
        s0, s1 = f0 * hop, (f0 + m - 1) * hop + receptive_field
        seg = wav[:, s0:s1]
        if seg.shape[1] < s1 - s0:
            seg = F.pad(seg, (0, s1 - s0 - seg.shape[1]))
        y = run(seg)
        if post is not None:
            y = post(y)
        y = y[:, : f1 - f0]
        if f1 - f0 == total:  # one block
            return y
        if out is None:
            out = y.new_empty(b, total, y.shape[-1])
        out[:, f0:f1] = y
    return out


# -- attention ---------------------------------------------------------------------------------
# From this many tokens on, CPU fp32 attention runs as per-head oneDNN matmuls (see
# attention_onednn); below, SDPA's fused kernel is faster (per-call overheads dominate).
# Crossover measured on 2 cores (AMD Zen 5) at 330-360 tokens.
ONEDNN_ATTENTION_MIN_TOKENS = 352


def onednn_attention_applies(qkv: torch.Tensor) -> bool:
    """True where ``attention_onednn`` beats SDPA: qkv [B, N, 3, H, dh] on the oneDNN path,
    N >= ONEDNN_ATTENTION_MIN_TOKENS."""
    return qkv.shape[1] >= ONEDNN_ATTENTION_MIN_TOKENS and _fast_cpu(qkv, qkv)


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
