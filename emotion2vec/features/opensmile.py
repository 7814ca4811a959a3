"""openSMILE features through audEERING's `opensmile` package (the openSMILE library, run in
this process through its C API: no program is started per utterance).

`functionals` give one vector per utterance (`[1, D]`: an utterance-level feature), `lld` the
low-level descriptors as frames at the set's own rate (10 ms hop for all four sets here).
The `opensmile` package is imported only when the extractor is built, so that the option
tables below cost nothing to import.
"""

from __future__ import annotations

import warnings
from typing import Any, Dict, List, Optional

import numpy as np

from emotion2vec.errors import E2VError
from emotion2vec.features.base import Extractor

# --opensmile-set values: opensmile.FeatureSet member names.
OPENSMILE_SETS = ("eGeMAPSv02", "GeMAPSv01b", "ComParE_2016", "emobase")
# --opensmile-level -> opensmile.FeatureLevel member name.
OPENSMILE_LEVELS = {"functionals": "Functionals", "lld": "LowLevelDescriptors"}
DEFAULT_SET = "ComParE_2016"  # opensmile.Smile's own default, and the stronger SER baseline
DEFAULT_LEVEL = "functionals"
# opensmile casts `samples * 32768` to int16: full scale and beyond (resampling can overshoot
# +-1) would wrap around to the other sign, so samples are clipped to the 16-bit range first.
_INT16_MAX = 32767 / 32768


def check_set_level(opensmile_set: str, opensmile_level: str) -> None:
    if opensmile_set not in OPENSMILE_SETS:
        raise E2VError(f"--opensmile-set: want one of {' | '.join(OPENSMILE_SETS)}, "
                       f"got {opensmile_set!r}")
    if opensmile_level not in OPENSMILE_LEVELS:
        raise E2VError(f"--opensmile-level: want one of {' | '.join(OPENSMILE_LEVELS)}, "
                       f"got {opensmile_level!r}")


class OpenSmileFeatures(Extractor):
    """openSMILE `opensmile_set` at `opensmile_level` of 16 kHz float32 waveforms.

    Audio too short for one analysis window (opensmile then warns and fills a row with NaN:
    under about 60 ms for the GeMAPS sets and ComParE_2016) gives `[0, D]`, which the
    extraction job reports as too short, naming the utterance.
    """

    name = "opensmile"

    def __init__(self, opensmile_set: Optional[str] = None, opensmile_level: Optional[str] = None,
                 sample_rate: int = 16000, **_):
        try:
            import opensmile
        except ImportError:
            raise E2VError("--feat-type opensmile needs the opensmile package "
                           "(pip install opensmile; tools/setup.sh installs it)") from None
        self.opensmile_set = opensmile_set or DEFAULT_SET
        self.opensmile_level = opensmile_level or DEFAULT_LEVEL
        check_set_level(self.opensmile_set, self.opensmile_level)
        self.sample_rate = int(sample_rate)
        self.version = str(opensmile.__version__)
        self._smile = opensmile.Smile(
            feature_set=opensmile.FeatureSet[self.opensmile_set],
            feature_level=opensmile.FeatureLevel[OPENSMILE_LEVELS[self.opensmile_level]])
        self.dim = len(self._smile.feature_names)
        self.frame_rate = self._lld_rate() if self.opensmile_level == "lld" else None

    def _lld_rate(self) -> float:
        """Frames per second as opensmile reports them (its frame start times on 1 s of a tone):
        the configured hop, read from the library rather than assumed."""
        t = np.arange(self.sample_rate, dtype=np.float32) / self.sample_rate
        probe = (0.1 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)
        starts = self._smile.process_signal(probe, self.sample_rate).index.get_level_values(
            "start").total_seconds()
        return float(round(1.0 / float(np.median(np.diff(np.asarray(starts)))), 6))

    def _one(self, wav: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            # "Segment too short, filling with NaN": handled below as no frame at all
            warnings.filterwarnings("ignore", message="Segment too short")
            df = self._smile.process_signal(np.clip(wav, -1.0, _INT16_MAX), self.sample_rate)
        x = df.to_numpy(dtype=np.float32)
        if x.size and np.isnan(x).all():
            return np.zeros((0, self.dim), np.float32)
        return np.ascontiguousarray(x)

    def extract(self, wavs: List[np.ndarray]) -> List[np.ndarray]:
        return [self._one(w) for w in wavs]

    def info(self) -> Dict[str, Any]:
        return {"feat_type": self.name, "model": None, "layer": "last", "dim": int(self.dim),
                "frame_rate": self.frame_rate, "num_layers": None,
                "opensmile_set": self.opensmile_set, "opensmile_level": self.opensmile_level,
                "opensmile_version": self.version}
