"""`load_predictor`: the predictor for a `--model` argument, whichever kind it names (an
emotion2vec+ model, trained heads, a packed model file, a Hugging Face classifier)."""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

from emotion2vec.errors import E2VError
from emotion2vec.inference import packing
from emotion2vec.inference.base import Predictor
from emotion2vec.inference.ensemble import HeadEnsemble
from emotion2vec.inference.headdirs import exp_folds, fold_heads, head_dirs
from emotion2vec.inference.hf import HFAudioClassifier
from emotion2vec.inference.plus import Emotion2vecPlus


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
        return HFAudioClassifier(spec, device=device, trust_remote_code=trust_remote_code,
                                 model_window=model_window, classes=classes)
    if kind == "emotion2vec":
        return Emotion2vecPlus(spec, device=device)
    if kind == "head":
        p = Path(spec)
        return HeadEnsemble(head_dirs(p, fold), feat_info, device, encoder,
                            source=str(p.resolve()), trust_remote_code=trust_remote_code)
    if kind == "packed":
        return load_packed(spec, device=device, fold=fold, encoder=encoder, cache_dir=cache_dir,
                           trust_remote_code=trust_remote_code)
    raise E2VError(f"unknown model type '{kind}' (auto, emotion2vec, head, packed, hf)")


def load_packed(path: os.PathLike, device: str = "cpu", fold: str = "all",
                encoder: Optional[str] = None, cache_dir: Optional[os.PathLike] = None,
                trust_remote_code: bool = False):
    """A predictor (HeadEnsemble) from a packed model file (inference/packing.py)."""
    path = Path(path)
    root = packing.unpack(path, cache_dir or Path(tempfile.gettempdir()) / "emotion2vec-packed")
    manifest = json.loads((root / packing.MANIFEST).read_text(encoding="utf-8"))
    heads: List[Path] = [root / h["path"] for h in manifest["heads"]]
    if fold not in ("all", "", None):
        want = {f"fold{k.strip()}" for k in str(fold).split(",")}
        heads = [h for h in heads if set(Path(h).relative_to(root / "heads").parts) & want]
        if not heads:
            have = sorted({Path(h["path"]).parts[1] for h in manifest["heads"]})
            raise E2VError(f"{path}: no heads of --fold {fold} (it holds {', '.join(have)})")
    feat_info = dict(manifest["feat_info"])
    enc = manifest["encoder"]
    if encoder:
        feat_info["model"] = encoder
    elif enc.get("type") == "embedded":
        feat_info["model"] = str(root / enc["path"])
    pred = HeadEnsemble(heads, feat_info, device, None, source=str(path.resolve()),
                        trust_remote_code=trust_remote_code)
    if list(pred.classes) != list(manifest["classes"]):
        raise E2VError(f"{path}: the heads' classes {pred.classes} differ from the manifest's "
                       f"{manifest['classes']}")
    pred.kind = "packed"
    pred.encoder = encoder or (f"embedded copy of {enc.get('spec')}" if enc.get("type") == "embedded"
                               else enc.get("spec"))
    return pred


__all__ = ["load_predictor", "load_packed", "detect_kind"]
