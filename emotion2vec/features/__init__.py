"""Feature extractors behind one interface (`Extractor`) and a registry keyed by --feat-type.

    from emotion2vec.features import make_extractor
    ex = make_extractor("fbank", num_mel_bins=80)
    feats = ex.extract([wav_16k_float32, ...])      # list of [T, D] float32

Extractor modules are imported on demand so that spectral features never import torch, and
only opensmile features import opensmile (and its pandas).
"""

from __future__ import annotations

import importlib
from typing import Dict, Tuple

from emotion2vec.errors import E2VError
from emotion2vec.features.base import Extractor, Layer, layer_name, parse_layer

# --feat-type -> (module, class)
EXTRACTORS: Dict[str, Tuple[str, str]] = {
    "emotion2vec": ("emotion2vec.features.emotion2vec", "Emotion2vecFeatures"),
    "hf": ("emotion2vec.features.hf", "HFEncoderFeatures"),
    "fbank": ("emotion2vec.features.spectral", "Fbank"),
    "logspec": ("emotion2vec.features.spectral", "LogSpec"),
    "logmel": ("emotion2vec.features.spectral", "LogMel"),
    "opensmile": ("emotion2vec.features.opensmile", "OpenSmileFeatures"),
}


def extractor_class(feat_type: str):
    if feat_type not in EXTRACTORS:
        raise E2VError(f"unknown feature type '{feat_type}' (known: {', '.join(EXTRACTORS)})")
    module, cls = EXTRACTORS[feat_type]
    return getattr(importlib.import_module(module), cls)


def make_extractor(feat_type: str, **options) -> Extractor:
    """Build the extractor for `feat_type`; options it does not use are ignored."""
    cls = extractor_class(feat_type)
    layer = options.pop("layer", None)
    ex = cls(**options, layer=layer) if layer is not None else cls(**options)
    if layer is not None and ex.layer is None:  # extractors without layers
        ex.check_layer(layer)
    return ex


__all__ = ["EXTRACTORS", "Extractor", "Layer", "extractor_class", "make_extractor",
           "parse_layer", "layer_name"]
