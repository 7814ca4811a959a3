"""Predictors for emotion2vec+ checkpoints and for heads trained by `steps/train_cv.sh`, and
`load_predictor`, which picks the right one for a `--model` argument."""

from __future__ import annotations

import json
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

    def describe(self) -> dict:
        return {"kind": self.kind, "model": self.spec, "classes": self.classes}

    def predict(self, wavs, want_embeddings=False):
        post = np.asarray(self.m.classify(list(wavs)), dtype=np.float32)
        embs = None
        if want_embeddings:
            embs = [np.asarray(f, dtype=np.float32).mean(0) for f in self.m.extract(list(wavs))]
        return post, embs


def feature_extractor(feat_info: dict, device: str = "cpu", model: Optional[str] = None):
    """Rebuild the extractor that made a feature directory, from its feat_info.json."""
    from emotion2vec.features import make_extractor, parse_layer

    if not feat_info.get("feat_type"):
        raise E2VError("the feature settings (feat_info.json) name no feat_type")
    opts = dict(feat_info.get("options") or {})
    for k in ("feat_type", "layer", "device", "granularity"):
        opts.pop(k, None)
    enc = model or feat_info.get("model")
    if enc:
        opts["model"] = enc
    layer = parse_layer(feat_info.get("layer") or "last")
    if layer == "all":
        raise E2VError("a head trained on --layer all features needs one layer; use the "
                       "layer<k> feature directory it was trained on")
    return make_extractor(feat_info["feat_type"], layer=layer, device=device, **opts)


class HeadEnsemble(Predictor):
    """Heads of one experiment (one fold or several) on the features they were trained on.

    Several folds: the posteriors of all fold heads are averaged (an ensemble); `fold` picks
    one. The embedding is the mean over frames of the head's input features.
    """

    kind = "head"

    def __init__(self, fold_dirs: Sequence[Path], feat_info: dict, device: str = "cpu",
                 encoder: Optional[str] = None, source: Optional[str] = None):
        from emotion2vec.heads import load_head

        if not fold_dirs:
            raise E2VError(f"{source}: no trained fold heads found")
        self.fold_dirs = [Path(d) for d in fold_dirs]
        self.heads = []
        for d in self.fold_dirs:
            try:
                self.heads.append(load_head(d))
            except E2VError:
                raise
            except (OSError, ValueError, KeyError, RuntimeError) as e:
                raise E2VError(f"{d}: cannot load the trained head: {e}") from e
        self.classes = list(self.heads[0].classes)
        for d, h in zip(self.fold_dirs, self.heads):
            if list(h.classes) != self.classes:
                raise E2VError(f"{d}: its classes {list(h.classes)} differ from "
                               f"{self.fold_dirs[0]}'s {self.classes}")
        self.feat_info = dict(feat_info)
        self.granularity = self.feat_info.get("granularity", "frame")
        self.extractor = feature_extractor(self.feat_info, device, encoder)
        dim = self.feat_info.get("dim")
        if dim is not None and int(self.extractor.dim) != int(dim):
            raise E2VError(f"the encoder gives {self.extractor.dim}-dimensional features, the "
                           f"head was trained on {dim}")
        self.sample_rate = int(self.feat_info.get("sample_rate") or 16000)
        self.source = source
        self.encoder = encoder or self.feat_info.get("model")

    def describe(self) -> dict:
        return {"kind": self.kind, "model": self.source, "encoder": self.encoder,
                "folds": [d.name for d in self.fold_dirs],
                "combination": "mean of fold posteriors" if len(self.heads) > 1 else "single head",
                "feat_info": self.feat_info, "classes": self.classes}

    def predict(self, wavs, want_embeddings=False):
        feats = [np.asarray(f, dtype=np.float32) for f in self.extractor.extract(list(wavs))]
        if self.granularity == "utterance":
            feats = [f.mean(0, keepdims=True) for f in feats]
        post = np.mean([np.asarray(h.predict_proba(feats), dtype=np.float64) for h in self.heads],
                       axis=0).astype(np.float32)
        embs = [f.mean(0) for f in feats] if want_embeddings else None
        return post, embs


_FOLD_RE = re.compile(r"^fold(\d+)$")


def exp_folds(exp_dir: Path) -> List[Path]:
    """The `fold<k>` directories of an experiment, by fold number."""
    folds = [(int(m.group(1)), p) for p in exp_dir.iterdir()
             if p.is_dir() and (m := _FOLD_RE.match(p.name))]
    return [p for _, p in sorted(folds)]


def select_folds(exp_dir: Path, fold: str) -> List[Path]:
    folds = exp_folds(exp_dir)
    if not folds:
        raise E2VError(f"{exp_dir}: no fold<k> directories (not a training experiment?)")
    if fold in ("all", "", None):
        return folds
    want = [f"fold{k.strip()}" for k in str(fold).split(",")]
    by_name = {p.name: p for p in folds}
    missing = [w for w in want if w not in by_name]
    if missing:
        raise E2VError(f"{exp_dir}: no {', '.join(missing)} (has {', '.join(by_name)})")
    return [by_name[w] for w in want]


def exp_feat_info(exp_dir: Path) -> dict:
    """The feature settings a training experiment used (from its results.json settings)."""
    from emotion2vec.training.features import read_feat_info

    for name in ("feat_info.json",):
        p = exp_dir / name
        if p.is_file():
            return json.loads(p.read_text(encoding="utf-8"))
    res = exp_dir / "results.json"
    if res.is_file():
        settings = json.loads(res.read_text(encoding="utf-8")).get("settings", {})
        if isinstance(settings.get("feat_info"), dict):
            return settings["feat_info"]
        feat_dir = settings.get("feat_dir")
        if feat_dir:
            info = read_feat_info(feat_dir)
            if info:
                return info
            raise E2VError(f"{exp_dir}: its feature directory {feat_dir} has no feat_info.json; "
                           "pass --feat-info FILE")
    raise E2VError(f"{exp_dir}: cannot tell which features the heads were trained on (no "
                   "results.json naming the feature directory); pass --feat-info FILE")


def detect_kind(spec: str) -> str:
    p = Path(spec)
    if p.is_file() and (spec.endswith((".tar.gz", ".tgz")) or tarfile.is_tarfile(p)):
        return "packed"
    if p.is_dir():
        if (p / "config.json").is_file() and not (p / "config.yaml").is_file():
            return "hf"
        if exp_folds(p) or (p / "results.json").is_file():
            return "exp"
        if any(p.glob("*.safetensors")) and not (p / "model.pt").is_file():
            return "fold"
    return "emotion2vec"


def load_predictor(spec: str, kind: str = "auto", device: str = "cpu", fold: str = "all",
                   trust_remote_code: bool = False, model_window: Optional[float] = None,
                   classes: Optional[Sequence[str]] = None, feat_info: Optional[dict] = None,
                   encoder: Optional[str] = None, cache_dir: Optional[Path] = None) -> Predictor:
    """The predictor for a `--model` argument.

    kind: auto | emotion2vec (name, model dir or .pt of an emotion2vec+ model) | exp (a
    training experiment dir) | fold (one fold dir) | packed (a steps/pack_model.sh file) | hf
    (a Hugging Face audio-classification model dir).
    """
    if kind == "auto":
        kind = detect_kind(spec)
    if classes is not None and kind != "hf":
        raise E2VError("--classes renames the labels of Hugging Face models only")
    if model_window and kind != "hf":
        raise E2VError("--model-window applies to Hugging Face models only")
    if kind == "hf":
        from emotion2vec.inference.hf import HFAudioClassifier
        return HFAudioClassifier(spec, device=device, trust_remote_code=trust_remote_code,
                                 model_window=model_window, classes=classes)
    if kind == "emotion2vec":
        return Emotion2vecPlus(spec, device=device)
    if kind == "exp":
        p = Path(spec)
        info = feat_info or exp_feat_info(p)
        return HeadEnsemble(select_folds(p, fold), info, device, encoder, source=str(p.resolve()))
    if kind == "fold":
        p = Path(spec)
        info = feat_info or exp_feat_info(p.parent)
        return HeadEnsemble([p], info, device, encoder, source=str(p.resolve()))
    if kind == "packed":
        from emotion2vec.inference.packing import load_packed
        return load_packed(spec, device=device, fold=fold, encoder=encoder, cache_dir=cache_dir)
    raise E2VError(f"unknown model type '{kind}' (auto, emotion2vec, exp, fold, packed, hf)")


__all__ = ["Emotion2vecPlus", "HeadEnsemble", "load_predictor", "detect_kind", "select_folds",
           "exp_folds", "exp_feat_info", "feature_extractor"]
