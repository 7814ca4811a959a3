"""The public face of the emotion2vec encoder: ``load_model`` and ``Emotion2vecModel``."""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn
from torch.ao.quantization import quantize_dynamic

from emotion2vec.errors import E2VError
from emotion2vec.memory import keep_freed_memory
from emotion2vec.models import chunking
from emotion2vec.models.checkpoint import load_weights, read_checkpoint
from emotion2vec.models.encoder import Emotion2vec, EncoderConfig
from emotion2vec.models.released import resolve_spec

Layer = Union[None, int, str]
PRECISIONS = ("fp32", "int8", "fp16", "bf16")


class Emotion2vecModel:
    """A loaded emotion2vec model ready for inference (eval mode, no gradients).

    Inputs are lists of 1-D float32 numpy arrays at 16 kHz of any lengths; they are padded and
    masked inside, and the results equal one-at-a-time inference. Length bucketing is the
    caller's job (padding costs time, not accuracy).
    """

    sample_rate = 16000
    frame_rate = 50

    def __init__(self, net: Emotion2vec, labels: Optional[List[str]] = None,
                 device: Union[str, torch.device] = "cpu", precision: str = "fp32",
                 name: str = "emotion2vec"):
        self.net = net.eval()
        self.labels = labels if net.proj is not None else None
        self.device = torch.device(device)
        self.precision = precision
        self.name = name
        self.net.to(self.device)
        for p in self.net.parameters():
            p.requires_grad_(False)
        if precision == "int8":
            self._quantize_int8()

    # -- sizes ---------------------------------------------------------------------------------
    @property
    def config(self) -> EncoderConfig:
        return self.net.cfg

    @property
    def embed_dim(self) -> int:
        return self.net.cfg.embed_dim

    @property
    def num_layers(self) -> int:
        return self.net.num_layers

    @property
    def min_samples(self) -> int:
        """Shortest input that gives one frame (400 samples = 25 ms)."""
        return self.net.receptive_field

    def num_frames(self, num_samples: int) -> int:
        return self.net.num_frames(num_samples)

    # -- inference -------------------------------------------------------------------------------
    def _autocast(self):
        if self.device.type == "cuda" and self.precision in ("fp16", "bf16"):
            dt = torch.float16 if self.precision == "fp16" else torch.bfloat16
            return torch.autocast("cuda", dtype=dt)
        if self.device.type == "cuda":
            return _no_tf32()
        return contextlib.nullcontext()

    def _check(self, wavs, keys) -> List[np.ndarray]:
        if isinstance(wavs, np.ndarray) and wavs.ndim == 1:
            raise E2VError("extract() takes a list of waveforms, not one waveform")
        out = []
        for i, w in enumerate(wavs):
            name = f"utterance {keys[i]}" if keys is not None else f"waveform #{i}"
            if isinstance(w, torch.Tensor):
                w = w.detach().cpu().numpy()
            w = np.asarray(w)
            if w.ndim != 1:
                raise E2VError(f"{name}: expected a 1-D mono waveform, got shape {w.shape}")
            if not np.issubdtype(w.dtype, np.floating):
                raise E2VError(f"{name}: expected float samples in [-1, 1], got {w.dtype}")
            if w.shape[0] < self.min_samples:
                raise E2VError(
                    f"{name}: {w.shape[0]} samples is shorter than the model's receptive field "
                    f"({self.min_samples} samples = {1000 * self.min_samples // self.sample_rate}"
                    " ms at 16 kHz); it gives no frame")
            if not np.isfinite(w).all():
                raise E2VError(f"{name}: waveform contains NaN or Inf samples")
            out.append(np.ascontiguousarray(w, dtype=np.float32))
        return out

    def _layers(self, layer: Layer) -> List[int]:
        if layer is None or layer == "last":
            return [self.num_layers]
        if layer == "all":
            return list(range(1, self.num_layers + 1))
        try:
            k = int(layer)
        except (TypeError, ValueError):
            k = -1
        if not 1 <= k <= self.num_layers:
            raise E2VError(f"layer must be 1..{self.num_layers}, 'last' or 'all', got {layer!r}")
        return [k]

    def _run(self, wavs, want: List[int], keys=None, normalize=None):
        """(stacked block outputs [len(want), B, T, D] float32, valid [B, T]) on the device."""
        arrays = self._check(wavs, keys)
        lengths = torch.tensor([len(w) for w in arrays], dtype=torch.long)
        cuda = self.device.type == "cuda"
        # page-locked host buffers on CUDA: pageable copies ran at ~1 GB/s on the H100 tested
        batch = torch.zeros(len(arrays), int(lengths.max()), dtype=torch.float32, pin_memory=cuda)
        for i, w in enumerate(arrays):
            batch[i, : len(w)] = torch.from_numpy(w)
        with torch.inference_mode(), self._autocast():
            _, valid, outs = self.net(batch.to(self.device, non_blocking=cuda), lengths,
                                      layers=want, normalize=normalize)
            stack = torch.stack([outs[k] for k in want]).float()
        return stack, valid

    @staticmethod
    def _split(stack: torch.Tensor, valid: torch.Tensor, all_layers: bool) -> List[np.ndarray]:
        stack = to_host(stack)
        out = []
        for i, n in enumerate(valid.sum(1).tolist()):
            a = stack[:, i, :n] if all_layers else stack[0, i, :n]
            out.append(np.ascontiguousarray(a.numpy()))
        return out

    def extract(self, wavs: Sequence[np.ndarray], layer: Layer = None,
                keys: Optional[Sequence[str]] = None) -> List[np.ndarray]:
        """Frame features: a float32 [T_i, D] array per waveform (layer None/'last'/int k);
        [L, T_i, D] with layer='all'. ``keys`` only name the utterances in error messages."""
        if len(wavs) == 0:
            return []
        stack, valid = self._run(wavs, self._layers(layer), keys)
        return self._split(stack, valid, layer == "all")

    def embed(self, wavs: Sequence[np.ndarray], layer: Layer = None,
              keys: Optional[Sequence[str]] = None) -> np.ndarray:
        """Utterance features (mean over valid frames): float32 [B, D] ([L, B, D] for 'all')."""
        stack, valid = self._run(wavs, self._layers(layer), keys)
        with torch.inference_mode():
            pooled = torch.stack([self.net.pool(x, valid) for x in stack]).cpu().numpy()
        return pooled if layer == "all" else pooled[0]

    def classify(self, wavs: Sequence[np.ndarray],
                 keys: Optional[Sequence[str]] = None) -> np.ndarray:
        """Class posteriors of the emotion2vec+ head: float32 [B, C], order = ``self.labels``."""
        if self.net.proj is None:
            raise E2VError(f"model {self.name} has no emotion class head (features only); "
                           "use an emotion2vec_plus_* model for posteriors")
        return self.extract_all(wavs, keys=keys)["posteriors"]

    def extract_all(self, wavs: Sequence[np.ndarray], layer: Layer = None,
                    keys: Optional[Sequence[str]] = None) -> Dict[str, object]:
        """Everything from one forward pass: {"frames": list of [T_i, D] ([L, T_i, D] for
        'all'), "utterance": [B, D] mean of the last block, "posteriors": [B, C] or None}."""
        want = self._layers(layer)
        last = self.num_layers
        run = want if last in want else want + [last]
        stack, valid = self._run(wavs, run, keys)
        with torch.inference_mode():
            pooled = self.net.pool(stack[run.index(last)], valid)
            post = None
            if self.net.proj is not None:
                post = self.net.posteriors(pooled).cpu().numpy().astype(np.float32)
        sel = stack[: len(want)]
        return {"frames": self._split(sel, valid, layer == "all"),
                "utterance": pooled.cpu().numpy(), "posteriors": post}

    def extract_long(self, wav: np.ndarray, chunk_seconds: float = 30.0,
                     overlap_seconds: float = 5.0, layer: Layer = None,
                     batch_size: Optional[int] = None) -> np.ndarray:
        """Frame features of a long recording in bounded memory; see emotion2vec.models.chunking."""
        return chunking.extract_long(self, wav, chunk_seconds=chunk_seconds,
                                     overlap_seconds=overlap_seconds, layer=layer,
                                     batch_size=batch_size)

    # -- reduced precision -------------------------------------------------------------------------
    def _quantize_int8(self) -> None:
        """Dynamic int8 quantisation of every Linear (and of the conv front end, run as
        matmuls), except the first conv layer on the raw waveform and the class head."""
        for i, layer in enumerate(self.net.modality_encoders["AUDIO"].local_encoder.conv_layers):
            if i == 0:
                continue
            lin = nn.Linear(layer.cin * layer.kernel, layer.cout, bias=False)
            lin.weight.data.copy_(layer.weight_2d())
            layer.linear = lin
        proj = self.net.proj
        self.net.proj = None
        with warnings.catch_warnings():  # torch.ao deprecation notices: still the fast path
            warnings.simplefilter("ignore")
            self.net = quantize_dynamic(self.net, {nn.Linear}, dtype=torch.qint8)
        self.net.proj = proj

    def __repr__(self):
        c = self.config
        return (f"Emotion2vecModel({self.name}: D={c.embed_dim}, heads={c.num_heads}, "
                f"blocks={c.prenet_depth}+{c.depth}, classes={c.num_classes}, "
                f"device={self.device}, precision={self.precision})")


def to_host(t: torch.Tensor) -> torch.Tensor:
    """A CPU copy of ``t``, through page-locked memory when it is on a GPU."""
    if t.device.type != "cuda":
        return t.cpu()
    host = torch.empty(t.shape, dtype=t.dtype, pin_memory=True)
    host.copy_(t)
    return host


@contextlib.contextmanager
def _no_tf32():
    """fp32 means fp32 on CUDA too: cuDNN convolutions default to TF32 (10-bit mantissa),
    which moves features by ~1e-3; switched off for the call, the caller's setting restored."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def load_model(spec: Union[str, Path], device: Union[str, torch.device] = "cpu",
               precision: str = "fp32", num_threads: Optional[int] = None,
               hub: Optional[str] = None) -> Emotion2vecModel:
    """Load an emotion2vec model.

    spec: a released id (``emotion2vec_base``, ``emotion2vec_base_finetuned``,
    ``emotion2vec_plus_seed`` | ``_base`` | ``_large``, optionally ``iic/`` or ``emotion2vec/``
    and ``@<revision>``: models/released.py; local cache ``$EMOTION2VEC_CACHE`` or
    ``~/.cache/emotion2vec``, downloaded from ``hub`` hf | ms when missing and online), a
    directory (``model.pt`` +
    ``config.yaml`` + ``tokens.txt``) or a checkpoint file (fairseq, plus or plain state dict).
    precision: fp32 | int8 (CPU, dynamic quantisation) | fp16 | bf16 (CUDA autocast).
    On CPU this also sets glibc's malloc to keep freed memory for reuse, process-wide
    (``emotion2vec.memory.keep_freed_memory``; ``EMOTION2VEC_KEEP_FREED_MEMORY=0`` to leave it).
    """
    if precision not in PRECISIONS:
        raise E2VError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise E2VError(f"device {device} requested but CUDA is not available")
    if precision == "int8" and dev.type != "cpu":
        raise E2VError("precision int8 (dynamic quantisation) is for the CPU; use fp16 or bf16 on GPU")
    if precision in ("fp16", "bf16") and dev.type == "cpu":
        raise E2VError(f"precision {precision} is for CUDA devices (on CPU it is far slower than "
                       "fp32); use fp32 or int8 on CPU")
    if num_threads:
        torch.set_num_threads(int(num_threads))
    if dev.type == "cpu":
        keep_freed_memory()  # ~6 % faster on CPU; process-wide, see emotion2vec.memory
    weights = resolve_spec(spec, hub)
    sd, cfg, labels, _fmt = read_checkpoint(weights)
    with torch.device("meta"):  # no random initialisation of weights about to be replaced
        net = Emotion2vec(cfg)
    load_weights(net, sd, str(weights))
    return Emotion2vecModel(net, labels=labels, device=dev, precision=precision, name=str(spec))
