"""Hugging Face SSL speech encoders (HuBERT, wav2vec2, WavLM, data2vec-audio, ...).

Loads with `transformers` (an optional dependency) from a local directory or a hub name;
models that ship their own code (e.g. ExHuBERT) load with `trust_remote_code`.
"""

from __future__ import annotations

import sys
from typing import List

import numpy as np

from emotion2vec.errors import E2VError
from emotion2vec.features.base import Extractor, Layer


class HFEncoderFeatures(Extractor):
    """Hidden states of a transformers audio encoder.

    `layer`: None (`last_hidden_state`), k in 0..L (`hidden_states[k]`; 0 is the input of the
    first transformer layer) or "all" (layers 1..L as [L, T, D]).  Models with a final layer
    norm after the last block (wav2vec2/HuBERT "large", do_stable_layer_norm) give
    `last_hidden_state` = that norm applied to layer L, so "last" and "L" differ there.

    Batches are used only where the model takes an attention mask (its feature extractor says
    `return_attention_mask`) and its convolutional front end does not use group norm over
    time: those (wav2vec2-base, HuBERT-base, WavLM-base) give different results for padded
    input, so they run one utterance at a time.
    """

    name = "hf"
    batched = True
    min_layer = 0

    def __init__(self, model: str, layer: Layer = None, device: str = "cpu",
                 trust_remote_code: bool = False, sample_rate: int = 16000, **_):
        try:
            import torch
            import transformers
        except ImportError:
            raise E2VError("--feat-type hf needs the optional dependency transformers "
                           "(pip install 'emotion2vec-recipes[hf]')") from None
        if not model:
            raise E2VError("--feat-type hf needs --model <local dir or hub name>")
        self._torch = torch
        try:
            self._net = transformers.AutoModel.from_pretrained(
                model, trust_remote_code=trust_remote_code).to(device).eval()
        except (OSError, ValueError) as e:
            msg = " ".join(str(e).split())  # one line: transformers' messages span several
            raise E2VError(f"cannot load Hugging Face model {model!r}: {msg}") from None
        try:
            self._fe = transformers.AutoFeatureExtractor.from_pretrained(
                model, trust_remote_code=trust_remote_code)
        except (OSError, ValueError) as e:
            self._fe = None
            print(f"extract_feats: warning: {model!r} has no feature-extractor config ({e}); "
                  "using raw waveforms without normalisation", file=sys.stderr)
        rate = getattr(self._fe, "sampling_rate", sample_rate)
        if rate != sample_rate:
            raise E2VError(f"model {model!r} expects {rate} Hz audio; the toolkit gives {sample_rate}")
        self.sample_rate = sample_rate
        self.device = device
        self.model = str(model)
        cfg = self._net.config
        self.dim = int(cfg.hidden_size)
        self.num_layers = int(cfg.num_hidden_layers)
        self.layer = self.check_layer(layer)
        # Exact batching needs a mask the model honours and a front end that does not
        # normalise over time (group norm sees the padding).
        self._masked = (bool(getattr(self._fe, "return_attention_mask", False))
                        and getattr(cfg, "feat_extract_norm", "layer") != "group"
                        and hasattr(self._net, "_get_feat_extract_output_lengths"))
        conv_stride = getattr(cfg, "conv_stride", None)
        self.frame_rate = float(sample_rate / np.prod(conv_stride)) if conv_stride else 50.0

    def _inputs(self, wavs: List[np.ndarray]):
        torch = self._torch
        if self._fe is None:
            x = torch.from_numpy(np.stack(wavs))
            return x, None
        enc = self._fe(wavs, sampling_rate=self.sample_rate, return_tensors="pt",
                       padding=True, return_attention_mask=self._masked)
        return enc["input_values"], enc.get("attention_mask") if self._masked else None

    def _forward(self, wavs: List[np.ndarray]) -> List[np.ndarray]:
        torch = self._torch
        x, mask = self._inputs(wavs)
        kw = {"attention_mask": mask.to(self.device)} if mask is not None else {}
        with torch.inference_mode():
            out = self._net(x.to(self.device), output_hidden_states=self.layer is not None, **kw)
        if self.layer is None:
            h = out.last_hidden_state[None]
        elif self.layer == "all":
            h = torch.stack(out.hidden_states[1:])
        else:
            h = out.hidden_states[self.layer][None]
        h = h.float().cpu().numpy()  # [L, B, T, D]
        if len(wavs) == 1:
            lengths = [h.shape[2]]
        else:
            lengths = self._net._get_feat_extract_output_lengths(
                torch.tensor([len(w) for w in wavs])).tolist()
        feats = [h[:, i, :int(n)] for i, n in enumerate(lengths)]
        return [f if self.layer == "all" else f[0] for f in feats]

    def extract(self, wavs: List[np.ndarray]) -> List[np.ndarray]:
        if self._masked:
            return self._forward(wavs)
        return [f for w in wavs for f in self._forward([w])]
