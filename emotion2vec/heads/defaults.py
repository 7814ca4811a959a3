"""The head a researcher would pick for a kind of features: the one table that steps/train_cv.sh
(`--head ''`) and the recipes use when the user does not choose.

A row applies to features whose feat_info.json `feat_type` is listed and whose granularity
(feat_info `granularity`, else what the features hold: one row per utterance = utterance)
matches; its `normalize` and `pooling` apply unless the user set them (`--normalize`,
`--pooling`); None leaves the head configuration's value.  Figures behind the choices:
docs/training.md ("Defaults per feature type").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class FeatureDefault:
    feat_types: Tuple[str, ...]     # () = any other feature type
    granularity: str                # frame | utterance
    head: str
    normalize: Optional[str] = None
    pooling: Optional[str] = None
    why: str = ""

    def as_dict(self) -> Dict:
        d = asdict(self)
        d["feat_types"] = list(self.feat_types)
        return d


TABLE: Tuple[FeatureDefault, ...] = (
    FeatureDefault(("opensmile",), "utterance", "svm", "speaker", None,
                   "openSMILE functionals: the classic baseline, per-speaker z-normalisation "
                   "and an SVM (kernel, C, gamma by inner speaker CV)"),
    FeatureDefault(("opensmile",), "frame", "svm", "speaker", "functionals",
                   "openSMILE low-level descriptors: statistics over frames, then as the "
                   "functionals"),
    FeatureDefault(("fbank", "logmel", "logspec"), "frame", "svm", "speaker", "functionals",
                   "spectral frames: statistics over frames (a bare mean loses the dynamics), "
                   "per-speaker z-normalisation, SVM"),
    FeatureDefault(("emotion2vec", "hf"), "frame", "e2v", None, None,
                   "self-supervised frame features: the emotion2vec downstream head"),
    FeatureDefault(("emotion2vec", "hf"), "utterance", "logreg", None, None,
                   "self-supervised utterance vectors: a linear probe (C by inner speaker CV)"),
    FeatureDefault((), "frame", "e2v", None, None, "other frame features"),
    FeatureDefault((), "utterance", "svm", None, None, "other utterance vectors"),
)


def feature_default(feat_type: Optional[str], granularity: str) -> FeatureDefault:
    """The row for these features (feat_type None or unknown: the catch-all rows)."""
    for row in TABLE:
        if row.granularity == granularity and (not row.feat_types or feat_type in row.feat_types):
            return row
    raise ValueError(f"granularity '{granularity}' not one of frame, utterance")


__all__ = ["FeatureDefault", "TABLE", "feature_default"]
