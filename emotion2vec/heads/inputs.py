"""What a head is given in one cross-validation fold: a Split per part (train, valid, test)
with every utterance's speaker, the pooled vectors for the utterance heads, and speaker
normalisation where it belongs (heads/normalize.py):

- utterance heads (svm, logreg, linear, mlp): the frames are pooled once per fold
  (heads/pooling.py, the config's `pooling`); with `normalize: speaker` every pooled vector is
  standardised with the mean / std of its speaker's pooled vectors;
- frame and segment heads (e2v, attn, cnn): with `normalize: speaker` every frame is
  standardised with the statistics of its speaker's frames.

Speaker statistics use all utterances of that speaker in the fold's lists, labels never:
training speakers' from their training (and validation) utterances, test speakers' from
their own test utterances (the transductive protocol of speaker normalisation in SER).
"""

from __future__ import annotations

from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

from emotion2vec.heads.base import Split
from emotion2vec.heads.normalize import SpeakerNormalized, speaker_stats, standardize_by_speaker
from emotion2vec.heads.pooling import PooledInput, resolve_pooling
from emotion2vec.heads.registry import head_class


def fold_splits(head: str, cfg: Dict, feat_info: Optional[Dict], level: str,
                get: Callable[[str], np.ndarray], dim: int, parts: Mapping[str, Sequence[str]],
                labels: Mapping[str, int], utt2spk: Mapping[str, str], log=None
                ) -> Tuple[Dict[str, Split], str, Dict]:
    """({part: Split}, the head's input_normalization, the config the head is built with)."""
    log = log or (lambda s: None)
    cfg = dict(cfg)
    every = [u for us in parts.values() for u in us]
    speaker_norm = cfg.get("normalize") == "speaker"
    if speaker_norm:
        cfg["normalize"] = "none"     # done here; the head adds nothing of its own
    vectors, pooling = None, None
    if issubclass(head_class(head), PooledInput):
        pool = resolve_pooling(cfg.get("pooling", "mean"), feat_info, lambda: level == "utterance")
        pooling = pool.spec
        vectors = pool.many(get, every, dim)
        log(f"pooled {len(every)} utterances: {pool.spec}"
            + (" (utterance-level features, used as they are)" if pool.passthrough else "")
            + f", {vectors.shape[1]} values each")
        if speaker_norm:
            vectors = standardize_by_speaker(vectors, [utt2spk[u] for u in every])
    elif speaker_norm:
        get = SpeakerNormalized(get, utt2spk, speaker_stats(get, every, utt2spk, dim))
    splits, start = {}, 0
    for name, us in parts.items():
        us = list(us)
        splits[name] = Split(us, np.array([labels[u] for u in us], dtype=np.int64), get,
                             groups=np.array([utt2spk[u] for u in us]),
                             vectors=None if vectors is None else vectors[start:start + len(us)],
                             pooling=pooling)
        start += len(us)
    return splits, "speaker" if speaker_norm else "none", cfg


__all__ = ["fold_splits"]
