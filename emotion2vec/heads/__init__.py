"""Downstream heads: one module per family, one registry, one loader.

    from emotion2vec.heads import build_head, load_head
    head = load_head("exp/iemocap_e2v/fold1")   # .classes, .predict_proba([T_i x D arrays])

Families: `e2v`, `attn` (frame level, heads/frame.py); `linear`, `mlp` (utterance level,
heads/utterance.py); `cnn` (spectrogram segments, heads/cnn.py); `svm`, `logreg`
(scikit-learn, heads/classic.py).  Each joins heads/registry.py; this file is the one place
that imports them (so importing the package loads torch).  Their default configurations are
package data: heads/conf/<head>.yaml (heads/config.py).  The PyTorch families share
heads/neural.py, the training loop heads/trainer.py and heads/normalize.py.
"""

from emotion2vec.heads import classic, cnn, frame, utterance  # noqa: F401  (fill the registry)
from emotion2vec.heads.base import Head, Split, load_head
from emotion2vec.heads.config import load_config
from emotion2vec.heads.registry import REGISTRY, build_head, head_class, head_names

__all__ = ["REGISTRY", "Head", "Split", "build_head", "load_head", "head_names", "head_class",
           "load_config"]
