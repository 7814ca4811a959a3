"""Long recordings in bounded memory: overlapping windows on the exact frame grid.

Frame t of emotion2vec covers samples [320 t, 320 t + 400) (hop 20 ms, receptive field 25 ms),
so a window that starts at a multiple of 320 samples produces exactly the global frames it
covers. The recording is normalised once as a whole (as the model would see it in one pass);
then it is cut into windows of ``chunk_seconds`` that overlap by ``overlap_seconds`` of context
on each side; each window contributes only its central frames (its "kept" part), so every frame
sees at least ``overlap_seconds`` of context in both directions (less only at the recording's
ends, as in one pass). The only difference from one pass is that attention cannot look further
than the window. Attention memory grows with the square of the window, so it stays bounded.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F

from emotion2vec.errors import E2VError


def windows(num_frames: int, chunk_frames: int, overlap_frames: int):
    """[(ctx_start, ctx_end, keep_start, keep_end)] in frames covering 0..num_frames."""
    keep = chunk_frames - 2 * overlap_frames
    if keep <= 0:
        raise E2VError(f"chunk ({chunk_frames} frames) must be longer than twice the overlap "
                       f"({overlap_frames} frames)")
    out = []
    for k0 in range(0, num_frames, keep):
        k1 = min(k0 + keep, num_frames)
        out.append((max(0, k0 - overlap_frames), min(num_frames, k1 + overlap_frames), k0, k1))
    return out


def extract_long(model, wav: np.ndarray, chunk_seconds: float = 30.0,
                 overlap_seconds: float = 5.0, layer=None, batch_size: Optional[int] = None,
                 key: Optional[str] = None) -> np.ndarray:
    """Frame features [T, D] ([L, T, D] for layer='all') of a recording of any length.
    ``batch_size`` windows per forward pass (default: 1 on CPU, where padded batches are
    slower than one window at a time, 2 elsewhere)."""
    if batch_size is None:
        batch_size = 1 if model.device.type == "cpu" else 2
    name = key or "recording"
    (wav,) = model._check([wav], [name])
    hop = model.sample_rate // model.frame_rate  # 320
    rf = model.min_samples  # 400
    total = model.num_frames(len(wav))
    chunk = int(round(chunk_seconds * model.frame_rate))
    ov = int(round(overlap_seconds * model.frame_rate))
    if chunk < 1 or ov < 0:
        raise E2VError(f"bad chunking: chunk_seconds={chunk_seconds}, overlap_seconds={overlap_seconds}")
    if total <= chunk:
        feats = model.extract([wav], layer=layer, keys=[name])[0]
        return feats
    if model.config.normalize:
        with torch.inference_mode():
            wav = F.layer_norm(torch.from_numpy(wav), (len(wav),)).numpy()
    all_layers = layer == "all"
    want = model._layers(layer)
    out = np.zeros(((len(want),) if all_layers else ()) + (total, model.embed_dim),
                   dtype=np.float32)
    plan = windows(total, chunk, ov)
    for b0 in range(0, len(plan), max(1, batch_size)):
        group = plan[b0:b0 + batch_size]
        pieces = [wav[c0 * hop:(c1 - 1) * hop + rf] for c0, c1, _, _ in group]
        stack, valid = model._run(pieces, want, [name] * len(pieces), normalize=False)
        for (c0, c1, k0, k1), feats in zip(group, model._split(stack, valid, True)):
            assert feats.shape[1] == c1 - c0  # feats: [L, window frames, D]
            seg = feats[:, k0 - c0:k1 - c0]
            if all_layers:
                out[:, k0:k1] = seg
            else:
                out[k0:k1] = seg[0]
    return out
