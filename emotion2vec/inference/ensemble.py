"""Heads trained by steps/train_cv.sh (one, or several averaged: folds x seeds) scored on the
features they were trained on, rebuilt from the feature settings recorded with them."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from emotion2vec.errors import E2VError
from emotion2vec.features import make_extractor, parse_layer
from emotion2vec.inference.base import Predictor


def feature_extractor(feat_info: dict, device: str = "cpu", model: Optional[str] = None,
                      trust_remote_code: bool = False):
    """Rebuild the extractor that made a feature directory, from its feat_info.json."""
    if not feat_info.get("feat_type"):
        raise E2VError("the feature settings (feat_info.json) name no feat_type")
    if feat_info["feat_type"] == "fusion":
        if model or feat_info.get("model"):
            raise E2VError("--encoder: a head on early-fused features (several feature sets) "
                           "extracts each set with the encoder it was trained on; it takes no "
                           "other encoder")
        return FusedExtractor(feat_info, device, trust_remote_code)
    opts = feat_info.get("options") or {}
    if opts.get("trust_remote_code") and not trust_remote_code:
        raise E2VError(f"the head's encoder {feat_info.get('model')!r} was loaded with "
                       "trust_remote_code (it runs its own Python code); pass "
                       "--trust-remote-code to allow that here too")
    layer = parse_layer(str(feat_info.get("layer") or "last"))
    if layer == "all":
        raise E2VError("a head trained on --layer all features needs one layer; use the "
                       "layer<k> feature directory it was trained on")
    return make_extractor(feat_info["feat_type"], model=model or feat_info.get("model"),
                          layer=layer, device=device, num_mel_bins=opts.get("num_mel_bins"),
                          trust_remote_code=bool(opts.get("trust_remote_code")),
                          sample_rate=int(feat_info.get("sample_rate") or 16000),
                          opensmile_set=opts.get("opensmile_set"),
                          opensmile_level=opts.get("opensmile_level"))


class FusedExtractor:
    """Early-fused features (training/earlyfusion.py) of new audio: every set extracted with
    its own feat_info, pooled as in training, concatenated: one [1, D_total] row per wav."""

    def __init__(self, feat_info: dict, device: str = "cpu", trust_remote_code: bool = False):
        from emotion2vec.heads.pooling import Pooling  # lazy, as the heads

        comps = feat_info.get("components") or []
        rates = {int(c["feat_info"].get("sample_rate") or 16000) for c in comps}
        if len(rates) > 1:
            raise E2VError(f"the early-fused feature sets were made at different sample rates "
                           f"({sorted(rates)}); inference reads one")
        self.parts = []
        for c in comps:
            ext = feature_extractor(c["feat_info"], device, None, trust_remote_code)
            if int(ext.dim) != int(c["dim"]):
                raise E2VError(f"feature set {c['feat_dir']}: the encoder gives {ext.dim} "
                               f"values per frame, the set had {c['dim']}")
            self.parts.append((ext, Pooling(c["pooling"], c["used_as_is"]),
                               c["feat_info"].get("granularity") == "utterance"))
        self.dim = sum(int(c["pooled_dim"]) for c in comps)

    def extract(self, wavs):
        blocks = []
        for ext, pool, utterance in self.parts:
            feats = [np.asarray(f, dtype=np.float32) for f in ext.extract(list(wavs))]
            if utterance:   # as the extraction step pools them
                feats = [f.mean(axis=-2, keepdims=True) for f in feats]
            blocks.append([pool(f).astype(np.float32) for f in feats])
        return [np.concatenate(row)[None, :] for row in zip(*blocks)]


class HeadEnsemble(Predictor):
    """Trained heads (one or several: folds x seeds) on the features they were trained on.

    Several heads: their posteriors are averaged (an ensemble). The feature settings come
    from the heads (head.json records feat_info) unless given. The embedding is the mean over
    frames of the heads' input features.
    """

    kind = "head"

    def __init__(self, head_dirs: Sequence[Path], feat_info: Optional[dict] = None,
                 device: str = "cpu", encoder: Optional[str] = None,
                 source: Optional[str] = None, trust_remote_code: bool = False):
        # lazy: the heads load torch, and `import emotion2vec.inference` must not (infer --merge)
        from emotion2vec.heads import load_head

        if not head_dirs:
            raise E2VError(f"{source}: no trained heads found")
        self.head_dirs = [Path(d) for d in head_dirs]
        self.heads = []
        for d in self.head_dirs:
            try:
                head = load_head(d)
            except E2VError:
                raise
            except (OSError, ValueError, KeyError, RuntimeError) as e:
                raise E2VError(f"{d}: cannot load the trained head: {e}") from e
            if getattr(head, "input_normalization", "none") == "speaker":
                raise E2VError(f"{d}: this head was trained on speaker-normalised features, "
                               "which needs per-speaker statistics of the new audio; inference "
                               "supports heads trained with --normalize none or global")
            self.heads.append(head)
        self.classes = list(self.heads[0].classes)
        for d, h in zip(self.head_dirs, self.heads):
            if list(h.classes) != self.classes:
                raise E2VError(f"{d}: its classes {list(h.classes)} differ from "
                               f"{self.head_dirs[0]}'s {self.classes}")
        if feat_info is None:
            feat_info = getattr(self.heads[0], "feat_info", None)
            if not feat_info:
                raise E2VError(f"{self.head_dirs[0]}: the head records no feature settings; "
                               "pass --feat-info <feat-dir>/feat_info.json")
        self.feat_info = dict(feat_info)
        self.granularity = self.feat_info.get("granularity", "frame")
        self.extractor = feature_extractor(self.feat_info, device, encoder, trust_remote_code)
        dims = {int(h.dim) for h in self.heads}
        if dims != {int(self.extractor.dim)}:
            raise E2VError(f"the encoder gives {self.extractor.dim}-dimensional features, the "
                           f"heads take {sorted(dims)}")
        self.sample_rate = int(self.feat_info.get("sample_rate") or 16000)
        self.source = source
        self.encoder = encoder or self.feat_info.get("model")

    def describe(self) -> dict:
        return {"kind": self.kind, "model": self.source, "encoder": self.encoder,
                "heads": [str(d) for d in self.head_dirs],
                "combination": "mean of head posteriors" if len(self.heads) > 1 else "single head",
                "feat_info": self.feat_info, "classes": self.classes}

    def predict(self, wavs, want_embeddings=False):
        feats = [np.asarray(f, dtype=np.float32) for f in self.extractor.extract(list(wavs))]
        if self.granularity == "utterance":  # as the extraction step pools them
            feats = [f.mean(axis=-2, keepdims=True) for f in feats]
        post = np.mean([np.asarray(h.predict_proba(feats), dtype=np.float64) for h in self.heads],
                       axis=0).astype(np.float32)
        embs = [f.mean(0) for f in feats] if want_embeddings else None
        return post, embs


__all__ = ["HeadEnsemble", "FusedExtractor", "feature_extractor"]
