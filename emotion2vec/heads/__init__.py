"""Downstream heads: one module per family, one registry, one loader.

    from emotion2vec.heads import build_head, load_head
    head = load_head("exp/iemocap_e2v/fold1")   # .classes, .predict_proba([T_i x D arrays])

Families: `e2v`, `attn` (frame level, heads/frame.py); `linear`, `mlp` (utterance level,
heads/utterance.py); `cnn` (spectrogram segments, heads/cnn.py); `svm`, `logreg`
(scikit-learn, heads/classic.py).
"""

from emotion2vec.heads.base import REGISTRY, Head, Split, build_head, load_head

__all__ = ["REGISTRY", "Head", "Split", "build_head", "load_head", "head_names"]


def head_names():
    from emotion2vec.heads.base import _import_families
    _import_families()
    return sorted(REGISTRY)
