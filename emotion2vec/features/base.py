"""The small interface every feature extractor implements."""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Optional, Union

import numpy as np

from emotion2vec.errors import E2VError

Layer = Union[None, int, str]  # None: the extractor's default output ("last"), int k, or "all"


def parse_layer(spec: Union[str, int, None]) -> Layer:
    """'last' -> None, 'all' -> 'all', '7' -> 7 (validated against a model later)."""
    if spec is None or spec == "last":
        return None
    if spec == "all":
        return "all"
    try:
        k = int(spec)
    except (TypeError, ValueError):
        raise E2VError(f"--layer: want last, all or a layer number, got {spec!r}") from None
    if k < 0:
        raise E2VError(f"--layer: layer numbers start at 0 or 1, got {k}")
    return k


def layer_name(layer: Layer) -> str:
    return "last" if layer is None else str(layer)


class Extractor:
    """Turns 16 kHz mono float32 waveforms into frame features.

    Subclasses set `dim`, `frame_rate` and `num_layers` (None for extractors without layers)
    and implement `extract`.  `batched` says whether `extract` is faster on many utterances at
    once (then the caller groups them by length under a budget of padded audio); results never
    depend on how utterances were grouped.
    """

    name: ClassVar[str] = ""
    batched: ClassVar[bool] = False

    dim: int
    frame_rate: float
    num_layers: Optional[int] = None
    layer: Layer = None
    model: Optional[str] = None

    def extract(self, wavs: List[np.ndarray]) -> List[np.ndarray]:
        """One float32 array per waveform: [T, D], or [L, T, D] when layer == 'all'."""
        raise NotImplementedError

    def check_layer(self, layer: Layer) -> Layer:
        if layer is None:
            return None
        if self.num_layers is None:
            raise E2VError(f"--layer {layer}: feature type '{self.name}' has no layers")
        if isinstance(layer, int) and not (self.min_layer <= layer <= self.num_layers):
            raise E2VError(f"--layer {layer}: this model has layers {self.min_layer}.."
                           f"{self.num_layers}")
        return layer

    min_layer: ClassVar[int] = 1

    def info(self) -> Dict[str, Any]:
        """What feat_info.json records about the extractor."""
        return {"feat_type": self.name, "model": self.model, "layer": layer_name(self.layer),
                "dim": int(self.dim), "frame_rate": float(self.frame_rate),
                "num_layers": self.num_layers}
