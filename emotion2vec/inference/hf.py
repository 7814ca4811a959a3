"""Hugging Face audio-classification models (e.g. ExHuBERT) from a local directory.

Only local files are read (no network). A directory whose config maps model classes to its own
Python files (`auto_map`) runs that code when loaded, so it is refused unless the user passes
`trust_remote_code=True` (`--trust-remote-code`); code hosted in another repository is always
refused (it would need a download).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from emotion2vec.errors import E2VError
from emotion2vec.inference.base import Predictor
from emotion2vec.inference.windows import window_bounds

log = logging.getLogger(__name__)


def is_hf_model_dir(path: os.PathLike) -> bool:
    p = Path(path)
    return p.is_dir() and (p / "config.json").is_file() and not (p / "config.yaml").is_file()


def _custom_code_refs(model_dir: Path) -> List[str]:
    """`auto_map` entries of config.json / preprocessor_config.json (classes defined in .py files)."""
    refs = []
    for name in ("config.json", "preprocessor_config.json"):
        f = model_dir / name
        if not f.is_file():
            continue
        try:
            cfg = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise E2VError(f"{f}: not a readable JSON file: {e}") from e
        amap = cfg.get("auto_map") or {}
        for v in amap.values():
            refs.extend(v if isinstance(v, list) else [v])
    return [r for r in refs if r]


class HFAudioClassifier(Predictor):
    """An `AutoModelForAudioClassification` directory; posteriors = softmax(logits).

    `model_window` (seconds): the fixed input length the model was trained on (ExHuBERT: 3).
    Each input is then cut into consecutive windows of that length (the last aligned to the
    end, a shorter input zero-padded to it) whose posteriors are averaged.
    """

    kind = "hf"

    def __init__(self, model_dir: os.PathLike, device: str = "cpu", trust_remote_code: bool = False,
                 model_window: Optional[float] = None, classes: Optional[Sequence[str]] = None):
        self.model_dir = Path(model_dir)
        if not is_hf_model_dir(self.model_dir):
            raise E2VError(f"{self.model_dir}: not a Hugging Face model directory (no config.json)")
        refs = _custom_code_refs(self.model_dir)
        remote = [r for r in refs if "--" in r]
        if remote:
            raise E2VError(f"{self.model_dir}: the config refers to code in another repository "
                           f"({', '.join(remote)}); only code inside the model directory can be "
                           "used (download it there and point auto_map at the local file)")
        if refs and not trust_remote_code:
            raise E2VError(f"{self.model_dir}: the model needs its own Python code "
                           f"({', '.join(sorted(set(refs)))}), which runs when it loads; "
                           "read it, then pass --trust-remote-code to allow it")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
        try:
            import torch
            from transformers import AutoConfig, AutoModelForAudioClassification
        except ImportError as e:  # optional dependency
            raise E2VError(f"Hugging Face models need the 'transformers' package "
                           f"(pip install -e .[hf]): {e}") from e
        self._torch = torch
        from transformers.utils import logging as hf_logging
        hf_logging.disable_progress_bar()  # per-job logs get our own progress, not theirs
        try:
            config = AutoConfig.from_pretrained(self.model_dir, local_files_only=True,
                                                trust_remote_code=trust_remote_code)
            self.model = AutoModelForAudioClassification.from_pretrained(
                self.model_dir, config=config, local_files_only=True,
                trust_remote_code=trust_remote_code)
        except (OSError, ValueError, KeyError) as e:
            raise E2VError(f"{self.model_dir}: cannot load as an audio-classification model: {e}") from e
        self.device = device
        self.model.eval().to(device)
        self.config = self.model.config
        n = int(getattr(self.config, "num_labels", 0) or 0)
        id2label = getattr(self.config, "id2label", None) or {}
        names = [str(id2label.get(i, id2label.get(str(i), f"LABEL_{i}"))) for i in range(n)]
        if classes is not None:
            if len(classes) != n:
                raise E2VError(f"{self.model_dir}: the model has {n} classes but the class list "
                               f"names {len(classes)}")
            names = list(classes)
        if len(set(names)) != len(names):
            raise E2VError(f"{self.model_dir}: duplicate class names in id2label: {names}")
        self.classes = names
        self.fe = self._feature_extractor()
        self.sample_rate = int(getattr(self.fe, "sampling_rate", 16000) or 16000)
        if model_window is not None and model_window <= 0:
            model_window = None
        self.model_window = model_window
        self.trust_remote_code = trust_remote_code

    def _feature_extractor(self):
        from transformers import AutoFeatureExtractor, Wav2Vec2FeatureExtractor
        if (self.model_dir / "preprocessor_config.json").is_file():
            try:
                return AutoFeatureExtractor.from_pretrained(self.model_dir, local_files_only=True)
            except (OSError, ValueError) as e:
                raise E2VError(f"{self.model_dir}/preprocessor_config.json: {e}") from e
        # No preprocessor config (ExHuBERT ships none): wav2vec2-style zero-mean unit-variance
        # input, the convention of the HuBERT / wav2vec2 family these models are built on.
        layer_norm = getattr(self.config, "feat_extract_norm", "group") == "layer"
        log.info("%s: no preprocessor_config.json; normalising each input to zero mean, unit "
                 "variance at 16 kHz", self.model_dir)
        return Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                        do_normalize=True, return_attention_mask=layer_norm)

    def describe(self) -> dict:
        return {"kind": self.kind, "model": str(self.model_dir.resolve()),
                "architecture": type(self.model).__name__, "model_window": self.model_window,
                "trust_remote_code": self.trust_remote_code, "classes": self.classes}

    def _chunks(self, wav: np.ndarray) -> List[np.ndarray]:
        if not self.model_window:
            return [wav]
        win = int(round(self.model_window * self.sample_rate))
        out = []
        for s, e in window_bounds(len(wav), self.sample_rate, self.model_window, self.model_window):
            c = wav[s:e]
            if len(c) < win:
                c = np.concatenate([c, np.zeros(win - len(c), dtype=c.dtype)])
            out.append(c)
        return out

    def _forward(self, wavs: List[np.ndarray], want_embeddings: bool
                 ) -> Tuple[np.ndarray, Optional[List[np.ndarray]]]:
        torch = self._torch
        mask_ok = bool(getattr(self.fe, "return_attention_mask", False))
        # Without an attention mask, padding changes the result: run unequal lengths apart.
        groups: List[List[int]] = []
        if mask_ok:
            groups = [list(range(len(wavs)))]
        else:
            by_len: dict = {}
            for i, w in enumerate(wavs):
                by_len.setdefault(len(w), []).append(i)
            groups = list(by_len.values())
        post = np.zeros((len(wavs), len(self.classes)), dtype=np.float32)
        embs: List[Optional[np.ndarray]] = [None] * len(wavs)
        for idx in groups:
            inputs = self.fe([wavs[i] for i in idx], sampling_rate=self.sample_rate,
                             padding=True, return_tensors="pt",
                             return_attention_mask=mask_ok)
            inputs = {k: v.to(self.device) for k, v in inputs.items()}
            with torch.inference_mode():
                out = self.model(**inputs, output_hidden_states=want_embeddings)
            logits = out.logits.float()
            post[idx] = torch.softmax(logits, dim=-1).cpu().numpy()
            if want_embeddings:
                hs = getattr(out, "hidden_states", None)
                if not hs:
                    raise E2VError(f"{self.model_dir}: the model returns no hidden states, so it "
                                   "cannot give embeddings")
                h = hs[-1].float()
                lens = [h.shape[1]] * len(idx)
                if mask_ok and hasattr(self.model, "_get_feat_extract_output_lengths"):
                    lens = self.model._get_feat_extract_output_lengths(
                        inputs["attention_mask"].sum(-1)).tolist()
                for j, i in enumerate(idx):
                    embs[i] = h[j, : max(1, int(lens[j]))].mean(0).cpu().numpy()
        return post, (embs if want_embeddings else None)

    def predict(self, wavs: Sequence[np.ndarray], want_embeddings: bool = False):
        chunks, owner = [], []
        for i, w in enumerate(wavs):
            for c in self._chunks(np.asarray(w, dtype=np.float32)):
                chunks.append(c)
                owner.append(i)
        post, embs = self._forward(chunks, want_embeddings)
        owner = np.asarray(owner)
        out_p = np.stack([post[owner == i].mean(0) for i in range(len(wavs))]).astype(np.float32)
        out_e = None
        if embs is not None:
            out_e = [np.mean([embs[k] for k in np.flatnonzero(owner == i)], axis=0).astype(np.float32)
                     for i in range(len(wavs))]
        return out_p, out_e
