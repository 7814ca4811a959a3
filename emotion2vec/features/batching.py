"""Length-bucketed batching with bounded memory and outputs in input order."""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, List, Sequence, Tuple

import numpy as np


def plan_batches(lengths: Sequence[int], budget: int) -> List[List[int]]:
    """Indices grouped into batches of similar length, longest first, so that
    `len(batch) * longest_in_batch <= budget` samples of padded audio (a single utterance
    longer than the budget forms a batch of its own)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: List[List[int]] = []
    for i in order:
        if batches and (len(batches[-1]) + 1) * lengths[batches[-1][0]] <= budget:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


def bucketed(items: Iterable[Tuple[str, np.ndarray]],
             extract: Callable[[List[np.ndarray]], List[np.ndarray]],
             budget_samples: int, window_samples: int,
             max_window_utts: int = 2000) -> Iterator[Tuple[str, np.ndarray, np.ndarray]]:
    """Yield `(utt, wav, features)` in the order of `items`.

    Utterances are read into a window of at most `window_samples` of audio (or
    `max_window_utts`), sorted by length inside it and run in batches under `budget_samples`
    of padded audio; so memory stays bounded whatever the corpus size.
    """
    window: List[Tuple[str, np.ndarray]] = []
    total = 0

    def flush():
        feats: List = [None] * len(window)
        for batch in plan_batches([len(w) for _, w in window], budget_samples):
            for i, f in zip(batch, extract([window[i][1] for i in batch])):
                feats[i] = f
        for (utt, wav), f in zip(window, feats):
            yield utt, wav, f

    for utt, wav in items:
        window.append((utt, wav))
        total += len(wav)
        if total >= window_samples or len(window) >= max_window_utts:
            yield from flush()
            window, total = [], 0
    if window:
        yield from flush()
