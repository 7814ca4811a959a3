"""Sliding windows, window ids and the smoothed timeline (pure functions)."""

import numpy as np
import pytest

from emotion2vec.errors import E2VError
from emotion2vec.inference.windows import (Piece, reco_posteriors, smooth_timeline,
                                           window_bounds, window_id)

SR = 16000


def test_short_audio_gives_one_window_covering_it():
    assert window_bounds(SR * 2, SR, 3.0, 1.5) == [(0, SR * 2)]
    assert window_bounds(SR * 3, SR, 3.0, 1.5) == [(0, SR * 3)]


def test_windows_slide_and_last_is_aligned_to_the_end():
    b = window_bounds(int(7.0 * SR), SR, 3.0, 1.5)
    assert b == [(0, 48000), (24000, 72000), (48000, 96000), (64000, 112000)]
    assert all(e - s == 3 * SR for s, e in b)
    assert b[-1][1] == 7 * SR


def test_no_duplicate_last_window_when_the_grid_ends_exactly():
    b = window_bounds(6 * SR, SR, 3.0, 1.5)
    assert b == [(0, 48000), (24000, 72000), (48000, 96000)]
    assert len(set(b)) == len(b)


@pytest.mark.parametrize("length,shift", [(0, 1), (3, 0), (-1, 1), (1e-6, 1)])
def test_bad_window_settings_are_refused(length, shift):
    with pytest.raises(E2VError, match="window|under one sample"):
        window_bounds(SR, SR, length, shift)


def test_window_id_is_kaldi_style_and_sorts_by_time():
    assert window_id("spk1-rec", 1.5, 4.5) == "spk1-rec-0000150-0000450"
    ids = [window_id("r", s, s + 3) for s in (0, 1.5, 10.5, 100.0)]
    assert ids == sorted(ids)


def test_timeline_averages_overlapping_windows_and_merges_runs():
    classes = ["a", "b"]
    pieces = [Piece("r", 0.0, 3.0, np.array([0.9, 0.1])),
              Piece("r", 1.5, 4.5, np.array([0.2, 0.8])),
              Piece("r", 3.0, 6.0, np.array([0.1, 0.9]))]
    runs = smooth_timeline(pieces, classes, step=0.1)
    # 0-1.5: only window 1 (a); 1.5-3: mean(0.9,0.2)=0.55 -> a; 3-6: b.
    assert runs == [(0.0, 3.0, "a"), (3.0, 6.0, "b")]


def test_timeline_leaves_gaps_between_segments_unlabelled():
    classes = ["a", "b"]
    pieces = [Piece("r", 0.0, 1.0, np.array([0.9, 0.1])),
              Piece("r", 2.0, 3.0, np.array([0.8, 0.2]))]
    assert smooth_timeline(pieces, classes, 0.1) == [(0.0, 1.0, "a"), (2.0, 3.0, "a")]


def test_reco_posteriors_weight_by_duration():
    p = reco_posteriors([Piece("r", 0, 1, np.array([1.0, 0.0])),
                         Piece("r", 1, 4, np.array([0.0, 1.0]))])
    assert np.allclose(p, [0.25, 0.75])
    assert np.isclose(p.sum(), 1.0)
