"""`AutoModel`: the FunASR / ModelScope entry point, for code written against FunASR.

    from emotion2vec import AutoModel
    model = AutoModel(model="iic/emotion2vec_plus_large")          # hub="hf" | "ms"
    res = model.generate("a.wav", granularity="utterance", extract_embedding=False)
    res[0]  # {"key": "a", "labels": ["生气/angry", ...], "scores": [0.01, ...]}

Same keys and meanings as FunASR's `AutoModel(...).generate` for emotion2vec: `labels` are the
checkpoint's tokens.txt lines in order (bilingual "中文/english" as shipped; `label_names=
"english"` gives the English part), tokens starting with `unuse` are left out and their
probability mass removed before normalising (FunASR masks their logits: the same posteriors);
`scores` are the posteriors (empty, with `labels`, for a model without an emotion head);
`feats` (when `extract_embedding`, always for a model without a head) is the last block's frame
features [T, D] for `granularity="frame"` or their mean [D] for "utterance"; with `output_dir`
each `feats` is also written to `{output_dir}/{key}.npy`.  Differences, on purpose: inputs are
batched by `batch_size_s` seconds of audio with results equal to one-at-a-time inference (the
model masks padding); keys of arrays are `array<i>` (FunASR draws random ones) unless `key=` is
given; every input is read with the toolkit's audio reader (any wav.scp entry: files, `cmd |`
pipes, `ark:offset`; any sample rate, resampled; a Kaldi data dir with segments).

Other models (`steps/train_cv.sh` experiment dirs, packed models, Hugging Face classifiers)
work too, at utterance granularity: `feats` is then the vector the classifier sees.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from emotion2vec.audio import AudioReader, load_audio, resample
from emotion2vec.errors import E2VError

GRANULARITIES = ("utterance", "frame")
LABEL_NAMES = ("shipped", "english")
LIST_SUFFIXES = (".scp", ".txt", ".list", ".lst")
# FunASR options that change nothing here (logging, update checks): accepted and ignored.
IGNORED = {"disable_update", "disable_log", "log_level", "check_latest", "disable_pbar_log",
           "hub_kwargs", "batch_size", "data_type", "cache", "is_final"}

Item = Tuple[str, object]   # (key, path / wav.scp entry / array); read when its batch runs


def english(token: str) -> str:
    """The English name of a token: "生气/angry" -> "angry", "<unk>" -> "unknown"."""
    name = token.rsplit("/", 1)[-1]
    return "unknown" if name == "<unk>" else name


def read_tokens(weights: Path, num_classes: int) -> List[str]:
    """tokens.txt beside the weights, as shipped (one token per line), for a model with a head."""
    from emotion2vec.models.checkpoint import DEFAULT_LABELS

    path = weights.parent / "tokens.txt"
    if path.is_file():
        tokens = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    else:
        tokens = list(DEFAULT_LABELS)
    if len(tokens) != num_classes:
        raise E2VError(f"{path}: {len(tokens)} tokens for a head of {num_classes} classes")
    return tokens


def _check_options(kwargs: Dict, who: str) -> Dict:
    unknown = sorted(k for k in kwargs if k not in IGNORED)
    if unknown:
        raise E2VError(f"{who}: unsupported option(s) {', '.join(unknown)} (FunASR options that "
                       f"do not apply here are refused rather than silently ignored)")
    return kwargs


class AutoModel:
    """A model loaded for FunASR-style `generate` calls (see the module docstring).

    model: a released id (emotion2vec_base, emotion2vec_base_finetuned, emotion2vec_plus_seed,
    emotion2vec_plus_base, emotion2vec_plus_large; with or without iic/ or emotion2vec/), a model
    directory, a .pt / .safetensors file, an experiment dir, a packed model or a Hugging Face
    classifier.  hub: hf | ms (where a missing released model is downloaded from);
    model_revision: a hub revision to pin.  ncpu: CPU threads (FunASR's name).
    """

    def __init__(self, model: str = "emotion2vec_plus_large", device: str = "cpu",
                 hub: Optional[str] = None, model_revision: Optional[str] = None,
                 precision: str = "fp32", label_names: str = "shipped",
                 ncpu: Optional[int] = None, trust_remote_code: bool = False,
                 disable_pbar: bool = False, **kwargs):
        from emotion2vec.inference.loading import detect_kind, load_predictor
        from emotion2vec.models import load_model
        from emotion2vec.models.released import check_hub, parse_id, resolve_spec

        _check_options(kwargs, "AutoModel")
        self.label_names = self._label_style(label_names)
        self.disable_pbar = bool(disable_pbar)
        spec = str(model)
        if model_revision:
            if parse_id(spec) is None:
                raise E2VError(f"model_revision applies to released ids, not {spec!r}")
            spec = f"{spec.partition('@')[0]}@{model_revision}"
        self.model_path = spec
        self._m = self._pred = None
        if parse_id(spec) is None and detect_kind(spec) != "emotion2vec":
            self._pred = load_predictor(spec, device=device, trust_remote_code=trust_remote_code)
            self.tokens = list(self._pred.classes)
            self.sample_rate = int(self._pred.sample_rate)
            return
        weights = resolve_spec(spec, check_hub(hub))
        self.model_path = str(weights.parent)
        self._m = load_model(weights, device=device, precision=precision, num_threads=ncpu)
        self._m.name = spec
        n = 0 if self._m.net.proj is None else int(self._m.net.proj.out_features)
        self.tokens = read_tokens(weights, n) if n else []
        self.sample_rate = int(self._m.sample_rate)

    # -- the call ---------------------------------------------------------------------------------
    def generate(self, input, granularity: str = "utterance", extract_embedding: bool = True,
                 output_dir: Optional[str] = None, batch_size_s: float = 300.0,
                 key: Optional[Sequence[str]] = None, fs: int = 16000,
                 label_names: Optional[str] = None, **kwargs) -> List[Dict]:
        """One dict per input: {"key", "labels", "scores"[, "feats"]} (module docstring)."""
        _check_options({k: v for k, v in kwargs.items() if k != "disable_pbar"}, "generate")
        if granularity not in GRANULARITIES:
            raise E2VError(f"granularity '{granularity}' not one of {', '.join(GRANULARITIES)}")
        if float(batch_size_s) <= 0:
            raise E2VError(f"batch_size_s must be > 0, got {batch_size_s}")
        style = self._label_style(label_names or self.label_names)
        if self._m is not None and self._m.net.proj is None:
            extract_embedding = True          # a features-only model: FunASR does the same
        if self._pred is not None and granularity == "frame" and extract_embedding:
            raise E2VError("frame embeddings come from emotion2vec checkpoints; this model "
                           f"({self._pred.kind}) gives utterance-level results only")
        items = list(_items(input, key))
        out_dir = Path(output_dir) if output_dir else None
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
        from tqdm import tqdm

        results: List[Dict] = []
        quiet = self.disable_pbar or kwargs.get("disable_pbar") or len(items) < 2
        with tqdm(total=len(items), desc="generate", unit="utt", disable=bool(quiet)) as bar:
            for batch in _batches(items, self.sample_rate, fs, float(batch_size_s)):
                results.extend(self._run(batch, granularity, extract_embedding, style, out_dir))
                bar.update(len(batch))
        return results

    __call__ = generate

    # -- inside -----------------------------------------------------------------------------------
    @staticmethod
    def _label_style(style: str) -> str:
        if style not in LABEL_NAMES:
            raise E2VError(f"label_names '{style}' not one of {', '.join(LABEL_NAMES)}")
        return style

    def _forward(self, keys: List[str], wavs: List[np.ndarray], granularity: str, feats: bool):
        """(posteriors [B, C] or None, feats per input or None)."""
        if self._pred is not None:
            post, emb = self._pred.predict(wavs, want_embeddings=feats)
            return post, emb
        out = self._m.extract_all(wavs, keys=keys)
        if not feats:
            return out["posteriors"], None
        f = out["frames"] if granularity == "frame" else list(out["utterance"])
        return out["posteriors"], [np.asarray(x, dtype=np.float32) for x in f]

    def _run(self, batch: List[Tuple[str, np.ndarray]], granularity: str, extract: bool,
             style: str, out_dir: Optional[Path]) -> List[Dict]:
        keys, wavs = [k for k, _ in batch], [w for _, w in batch]
        post, feats = self._forward(keys, wavs, granularity, extract)
        keep = [i for i, t in enumerate(self.tokens) if not t.startswith("unuse")]
        names = [self.tokens[i] if style == "shipped" else english(self.tokens[i]) for i in keep]
        out = []
        for b, k in enumerate(keys):
            r: Dict = {"key": k, "labels": list(names) if post is not None else [], "scores": []}
            if post is not None:
                p = np.asarray(post[b], dtype=np.float64)[keep]
                r["scores"] = (p / p.sum()).tolist()   # = softmax with unuse logits at -inf
            if extract:
                r["feats"] = feats[b]
                if out_dir is not None:
                    _save_npy(out_dir, k, feats[b])
            out.append(r)
        return out


def _save_npy(out_dir: Path, key: str, x: np.ndarray) -> None:
    if not key or os.sep in key or key in (".", ".."):
        raise E2VError(f"key {key!r} cannot name a file in {out_dir}")
    tmp = out_dir / f".{key}.npy.tmp"
    with open(tmp, "wb") as f:
        np.save(f, x)
    os.replace(tmp, out_dir / f"{key}.npy")


def _keys(key, n: int) -> Optional[List[str]]:
    if key is None:
        return None
    keys = [key] if isinstance(key, str) else [str(k) for k in key]
    if len(keys) != n:
        raise E2VError(f"key: {len(keys)} key(s) for {n} input(s)")
    return keys


def _list_file(path: Path) -> Iterator[Item]:
    """A wav.scp (`key entry`) or a list of paths (one per line, key = the file name's stem)."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not lines:
        raise E2VError(f"{path}: empty input list")
    if all(len(ln.split(maxsplit=1)) == 2 for ln in lines):
        reader = AudioReader(path)
        for k in reader.keys:
            yield k, (reader, k)
        return
    for n, ln in enumerate(lines, 1):
        if len(ln.split(maxsplit=1)) != 1:
            raise E2VError(f"{path}:{n}: a line of one path among 'key entry' lines: {ln!r}")
        yield Path(ln.strip()).stem, ln.strip()


def _one(x, i: int) -> Iterator[Item]:
    if isinstance(x, (str, os.PathLike)):
        s = str(x)
        p = Path(s)
        if s.startswith(("http://", "https://")):
            raise E2VError(f"{s}: URLs are not fetched; download the file and pass its path")
        if p.is_dir():
            if not (p / "wav.scp").is_file():
                raise E2VError(f"{p}: a directory without wav.scp (not a Kaldi data dir)")
            reader = AudioReader(p)
            yield from ((k, (reader, k)) for k in reader.keys)
        elif p.is_file() and p.suffix.lower() in LIST_SUFFIXES:
            yield from _list_file(p)
        elif p.is_file() or s.rstrip().endswith("|"):
            yield (p.stem if p.is_file() else f"pipe{i}"), s
        else:
            raise E2VError(f"input {s!r}: no such file")
        return
    yield f"array{i}", x


def _items(input, key) -> Iterator[Item]:
    """(key, source) for every input, in input order."""
    many = isinstance(input, (list, tuple))
    parts = list(input) if many else [input]
    if not parts:
        raise E2VError("generate: empty input list")
    items = [it for i, x in enumerate(parts) for it in _one(x, i)]
    keys = _keys(key, len(items))
    names = keys or [k for k, _ in items]
    dup = sorted({k for k in names if names.count(k) > 1})
    if dup:
        raise E2VError(f"generate: duplicate key(s) {', '.join(dup[:5])}; pass key=[...]")
    for (k, src), name in zip(items, names):
        yield name, src


def _as_wave(src, key: str, rate: int, fs: int) -> np.ndarray:
    """One input as float32 mono at the model's rate."""
    if isinstance(src, tuple):
        reader, utt = src
        return resample(reader.read(utt), reader.sample_rate, rate)
    if isinstance(src, str):
        return load_audio(src, what=f"input {key}", sample_rate=rate)
    x = src.detach().cpu().numpy() if hasattr(src, "detach") else np.asarray(src)
    x = np.squeeze(x)
    if x.ndim != 1:
        raise E2VError(f"input {key}: expected a 1-D mono waveform, got shape {np.shape(src)}")
    if np.issubdtype(x.dtype, np.integer):
        x = x / float(np.iinfo(x.dtype).max + 1)     # PCM -> [-1, 1), as soundfile reads it
    return resample(np.asarray(x, dtype=np.float32), int(fs), rate)


def _batches(items: List[Item], rate: int, fs: int, seconds: float
             ) -> Iterator[List[Tuple[str, np.ndarray]]]:
    """Consecutive inputs read and grouped up to `seconds` of audio per batch (at least one)."""
    batch: List[Tuple[str, np.ndarray]] = []
    total = 0.0
    for k, src in items:
        w = _as_wave(src, k, rate, fs)
        if batch and total + len(w) / rate > seconds:
            yield batch
            batch, total = [], 0.0
        batch.append((k, w))
        total += len(w) / rate
    if batch:
        yield batch


__all__ = ["AutoModel", "GRANULARITIES", "LABEL_NAMES", "english", "read_tokens"]
