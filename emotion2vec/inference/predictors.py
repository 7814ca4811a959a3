"""Predictors for emotion2vec+ checkpoints and for heads trained by `steps/train_cv.sh`, and
`load_predictor`, which picks the right one for a `--model` argument."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from emotion2vec.errors import E2VError
from emotion2vec.inference.predictor import Predictor


class Emotion2vecPlus(Predictor):
    """An emotion2vec+ checkpoint (name, model dir or .pt): its own 9-class head."""

    kind = "emotion2vec"

    def __init__(self, spec: str, device: str = "cpu"):
        from emotion2vec.models import load_model

        self.spec = str(spec)
        self.m = load_model(spec, device=device)
        if not self.m.labels:
            raise E2VError(f"{spec}: this emotion2vec model has no class head (a base model); "
                           "extract features and train a head (steps/train_cv.sh), then infer "
                           "with the experiment directory")
        self.classes = list(self.m.labels)
        self.sample_rate = int(getattr(self.m, "sample_rate", 16000))
        self.min_samples = int(getattr(self.m, "min_samples", 400))

    def describe(self) -> dict:
        return {"kind": self.kind, "model": self.spec, "classes": self.classes}

    def predict(self, wavs, want_embeddings=False):
        if not want_embeddings:
            return np.asarray(self.m.classify(list(wavs)), dtype=np.float32), None
        out = self.m.extract_all(list(wavs))  # one forward pass for both
        return (np.asarray(out["posteriors"], dtype=np.float32),
                [np.asarray(u, dtype=np.float32) for u in out["utterance"]])


def feature_extractor(feat_info: dict, device: str = "cpu", model: Optional[str] = None,
                      trust_remote_code: bool = False):
    """Rebuild the extractor that made a feature directory, from its feat_info.json."""
    from emotion2vec.features import make_extractor, parse_layer

    if not feat_info.get("feat_type"):
        raise E2VError("the feature settings (feat_info.json) name no feat_type")
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
                          sample_rate=int(feat_info.get("sample_rate") or 16000))


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


_FOLD_RE = re.compile(r"^fold(\d+)$")
_SEED_RE = re.compile(r"^seed(\d+)$")


def _numbered(d: Path, pattern) -> List[Path]:
    found = [(int(m.group(1)), p) for p in d.iterdir() if p.is_dir() and (m := pattern.match(p.name))]
    return [p for _, p in sorted(found)]


def exp_folds(exp_dir: Path) -> List[Path]:
    """The `fold<k>` directories of an experiment, by fold number."""
    return _numbered(exp_dir, _FOLD_RE)


def fold_heads(fold_dir: Path) -> List[Path]:
    """The head directories of a fold: the fold itself, or its `seed<n>/` heads."""
    if (fold_dir / "head.json").is_file():
        return [fold_dir]
    return [d for d in _numbered(fold_dir, _SEED_RE) if (d / "head.json").is_file()]


def head_dirs(path: Path, fold: str = "all") -> List[Path]:
    """Heads to use from an experiment dir (folds `fold`: all, K or K1,K2), a fold or a head dir."""
    path = Path(path)
    if not path.is_dir():
        raise E2VError(f"{path}: no such directory")
    if fold_heads(path):
        if fold not in ("all", "", None):
            raise E2VError(f"--fold {fold}: {path} is a single fold/head directory")
        return fold_heads(path)
    folds = exp_folds(path)
    if not folds:
        raise E2VError(f"{path}: no head.json, seed<n>/ or fold<k>/ here (not a trained "
                       "head, fold or experiment directory)")
    if fold not in ("all", "", None):
        by_name = {p.name: p for p in folds}
        want = [f"fold{k.strip()}" for k in str(fold).split(",")]
        missing = [w for w in want if w not in by_name]
        if missing:
            raise E2VError(f"{path}: no {', '.join(missing)} (has {', '.join(by_name)})")
        folds = [by_name[w] for w in want]
    out = []
    for f in folds:
        heads = fold_heads(f)
        if not heads:
            raise E2VError(f"{f}: no trained head (head.json) in it (did training finish?)")
        out += heads
    return out


def detect_kind(spec: str) -> str:
    p = Path(spec)
    if p.is_file() and (spec.endswith((".tar.gz", ".tgz")) or tarfile.is_tarfile(p)):
        return "packed"
    if p.is_dir():
        if (p / "config.json").is_file() and not (p / "config.yaml").is_file():
            return "hf"
        if exp_folds(p) or fold_heads(p):
            return "head"
    return "emotion2vec"


def load_predictor(spec: str, kind: str = "auto", device: str = "cpu", fold: str = "all",
                   trust_remote_code: bool = False, model_window: Optional[float] = None,
                   classes: Optional[Sequence[str]] = None, feat_info: Optional[dict] = None,
                   encoder: Optional[str] = None, cache_dir: Optional[Path] = None) -> Predictor:
    """The predictor for a `--model` argument.

    kind: auto | emotion2vec (name, model dir or .pt of an emotion2vec+ model) | head (a
    training experiment dir, one of its fold dirs, or a head dir) | packed (a file made by
    steps/pack_model.sh) | hf (a Hugging Face audio-classification model dir).
    """
    if kind == "auto":
        kind = detect_kind(spec)
    if classes is not None and kind != "hf":
        raise E2VError("--classes renames the labels of Hugging Face models only")
    if model_window and kind != "hf":
        raise E2VError("--model-window applies to Hugging Face models only")
    if fold not in ("all", "", None) and kind not in ("head", "packed"):
        raise E2VError("--fold applies to trained heads (experiment dirs, packed models) only")
    if kind == "hf":
        from emotion2vec.inference.hf import HFAudioClassifier
        return HFAudioClassifier(spec, device=device, trust_remote_code=trust_remote_code,
                                 model_window=model_window, classes=classes)
    if kind == "emotion2vec":
        return Emotion2vecPlus(spec, device=device)
    if kind == "head":
        p = Path(spec)
        return HeadEnsemble(head_dirs(p, fold), feat_info, device, encoder,
                            source=str(p.resolve()), trust_remote_code=trust_remote_code)
    if kind == "packed":
        from emotion2vec.inference.packing import load_packed
        return load_packed(spec, device=device, fold=fold, encoder=encoder, cache_dir=cache_dir,
                           trust_remote_code=trust_remote_code)
    raise E2VError(f"unknown model type '{kind}' (auto, emotion2vec, head, packed, hf)")


__all__ = ["Emotion2vecPlus", "HeadEnsemble", "load_predictor", "detect_kind", "head_dirs",
           "exp_folds", "fold_heads", "feature_extractor"]
