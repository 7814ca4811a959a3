"""Long recordings: windows on the exact frame grid, bounded by the chunk size."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from emotion2vec.errors import E2VError
from emotion2vec.models.chunking import windows


def test_windows_cover_every_frame_once():
    plan = windows(1000, chunk_frames=300, overlap_frames=50)
    kept = [f for _, _, k0, k1 in plan for f in range(k0, k1)]
    assert kept == list(range(1000))
    for c0, c1, k0, k1 in plan:
        assert c0 <= k0 < k1 <= c1 and c1 - c0 <= 300
        assert k0 - c0 == min(50, k0) and c1 - k1 == min(50, 1000 - k1)
    with pytest.raises(E2VError, match="longer than twice the overlap"):
        windows(100, chunk_frames=100, overlap_frames=50)


def test_short_recording_equals_extract(tiny_plus, speech):
    w = speech(30000)
    np.testing.assert_array_equal(tiny_plus.extract_long(w, chunk_seconds=2.0),
                                  tiny_plus.extract([w])[0])


def test_long_recording_is_stitched_from_exact_windows(tiny_plus, speech):
    m = tiny_plus
    w = speech(16000 * 7 + 123, seed=9)
    out = m.extract_long(w, chunk_seconds=2.0, overlap_seconds=0.5, batch_size=3)
    total = m.num_frames(len(w))
    assert out.shape == (total, 32) and np.isfinite(out).all()
    # frames kept from the second window = that window alone, on the globally normalised wave
    norm = F.layer_norm(torch.from_numpy(w), (len(w),)).numpy()
    c0, c1, k0, k1 = windows(total, 100, 25)[1]
    stack, _ = m._run([norm[c0 * 320:(c1 - 1) * 320 + 400]], [m.num_layers], normalize=False)
    np.testing.assert_allclose(out[k0:k1], stack[0, 0, k0 - c0:k1 - c0].numpy(), atol=1e-5)
    # every layer at once has the same last layer
    allk = m.extract_long(w, chunk_seconds=2.0, overlap_seconds=0.5, layer="all")
    assert allk.shape == (3, total, 32)
    np.testing.assert_allclose(allk[-1], out, atol=1e-5)
    # context mostly preserved: far from window edges, close to the one-pass result
    whole = m.extract([w])[0]
    cos = (out * whole).sum(1) / np.linalg.norm(out, axis=1) / np.linalg.norm(whole, axis=1)
    assert cos.mean() > 0.9
