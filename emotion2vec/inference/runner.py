"""The inference loop: read audio, cut windows, score in length-sorted batches, write outputs.

Memory stays bounded: recordings are read one after another into a buffer of at most
`buffer_seconds` of audio (windows are views into their recording, not copies); the buffer is
sorted by length, scored in batches of at most `batch_seconds` of padded audio, written out and
dropped. Only the per-unit posteriors (C floats each) stay in memory until the end.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from emotion2vec.datadir import c_sort_key, write_kv
from emotion2vec.errors import E2VError
from emotion2vec.features.batching import plan_batches
from emotion2vec.inference.base import Predictor
from emotion2vec.inference.windows import Piece, window_bounds, window_id
from emotion2vec.inference import writers

log = logging.getLogger(__name__)


@dataclass
class Settings:
    segment_length: Optional[float] = None   # seconds; None: score whole utterances
    segment_shift: Optional[float] = None    # seconds; default: half the length
    batch_seconds: float = 60.0              # padded audio per batch
    max_batch: int = 32                      # utterances per batch
    buffer_seconds: float = 600.0            # audio read ahead and sorted by length
    timeline_step: float = 0.1               # seconds per timeline frame
    embeddings: Optional[str] = None         # None | "ark" | "npy"
    skip_bad: bool = False
    progress: bool = True


@dataclass
class _Unit:
    key: str          # window id, or the utterance id when scoring whole utterances
    parent: str       # the input utterance
    reco: Optional[str]
    start: Optional[float]
    end: Optional[float]
    wav: np.ndarray   # a view into the utterance's audio


@dataclass
class Result:
    utt_records: List[dict] = field(default_factory=list)
    window_records: List[dict] = field(default_factory=list)
    bad: List[Tuple[str, str]] = field(default_factory=list)
    embedded: List[str] = field(default_factory=list)   # keys of the embeddings written
    audio_seconds: float = 0.0
    elapsed: float = 0.0


def _check_posteriors(post: np.ndarray, n: int, classes: Sequence[str], keys: Sequence[str]) -> None:
    if post.shape != (n, len(classes)):
        raise E2VError(f"model returned posteriors of shape {post.shape}, want ({n}, {len(classes)})")
    bad = ~np.isfinite(post).all(1) | (np.abs(post.sum(1) - 1.0) > 1e-3)
    if bad.any():
        raise E2VError(f"model returned invalid posteriors for {keys[int(np.flatnonzero(bad)[0])]}")


class _Scorer:
    """Buffers the units to score (at most `buffer_seconds` of audio), scores them in
    length-sorted batches and keeps their records (and window pieces) in `res`."""

    def __init__(self, predictor: Predictor, st: Settings, emb, res: Result):
        self.predictor, self.st, self.emb, self.res = predictor, st, emb, res
        self.classes = list(predictor.classes)
        self.windowed = st.segment_length is not None
        self.limit = st.buffer_seconds * predictor.sample_rate
        self.budget = max(1, int(st.batch_seconds * predictor.sample_rate))  # 0: one at a time
        self.pieces: Dict[str, List[Piece]] = {}
        self.buffer: List[_Unit] = []
        self.buffered = 0

    def add(self, unit: _Unit) -> None:
        self.buffer.append(unit)
        self.buffered += len(unit.wav)
        if self.buffered >= self.limit:
            self.flush()

    def flush(self) -> None:
        for batch in plan_batches([len(u.wav) for u in self.buffer], self.budget):
            for i in range(0, len(batch), self.st.max_batch):
                self._score([self.buffer[j] for j in batch[i:i + self.st.max_batch]])
        self.buffer, self.buffered = [], 0

    def _score(self, units: List[_Unit]) -> None:
        classes, res = self.classes, self.res
        post, embs = self.predictor.predict([u.wav for u in units],
                                            want_embeddings=self.emb is not None)
        post = np.asarray(post, dtype=np.float32)
        _check_posteriors(post, len(units), classes, [u.key for u in units])
        for k, u in enumerate(units):
            if self.windowed:
                res.window_records.append(writers.scores_record(
                    u.key, classes, post[k], parent=u.parent, reco=u.reco,
                    start=u.start, end=u.end))
                self.pieces.setdefault(u.parent, []).append(Piece(u.reco, u.start, u.end, post[k]))
            else:
                res.utt_records.append(writers.scores_record(
                    u.key, classes, post[k], reco=u.reco, start=u.start, end=u.end))
            if self.emb is not None:
                self.emb.write(u.key, embs[k])


def _read(reader, utt: str, min_samples: int, skip_bad: bool, bad: List) -> Optional[np.ndarray]:
    """The utterance's audio, or None when it is unreadable or too short and skip_bad."""
    try:
        wav = reader.read(utt)
        if len(wav) < min_samples:
            raise E2VError(f"utterance {utt}: too short to score ({len(wav)} samples, "
                           f"the model needs at least {min_samples})")
        return wav
    except E2VError as e:
        if not skip_bad:
            raise
        msg = str(e)
        print(f"infer: warning: skipping: {msg}", file=sys.stderr)
        bad.append((utt, msg.replace("\n", " ")))
        return None


def _units(utt: str, wav: np.ndarray, sr: int, st: Settings, shift: float,
           segment_times: Optional[Dict[str, Tuple[str, float, float]]]) -> Iterator[_Unit]:
    """What to score of one utterance: its windows, or the whole utterance."""
    if segment_times is not None and utt in segment_times:
        reco, off, _ = segment_times[utt]
    else:
        reco, off = utt, 0.0
    if st.segment_length is not None:
        for s, e in window_bounds(len(wav), sr, st.segment_length, shift):
            ts, te = round(off + s / sr, 3), round(off + e / sr, 3)
            yield _Unit(window_id(utt, ts, te), utt, reco, ts, te, wav[s:e])
    else:
        timed = segment_times is not None
        yield _Unit(utt, utt, reco if timed else None, round(off, 3) if timed else None,
                    round(off + len(wav) / sr, 3) if timed else None, wav)


def _window_utterances(pieces: Dict[str, List[Piece]], classes: Sequence[str],
                       segment_times: Optional[Dict[str, Tuple[str, float, float]]]) -> List[dict]:
    """The utterance records of windowed utterances (their windows combined)."""
    out = []
    for parent in sorted(pieces, key=c_sort_key):
        p = pieces[parent]
        extra = {}
        if segment_times is not None and parent in segment_times:
            extra = {"reco": segment_times[parent][0], "start": round(min(x.start for x in p), 3),
                     "end": round(max(x.end for x in p), 3)}
        out.append(writers.combine_windows(parent, p, classes, **extra))
    return out


def run(predictor: Predictor, reader, out_dir: os.PathLike, settings: Settings,
        segment_times: Optional[Dict[str, Tuple[str, float, float]]] = None) -> Result:
    """Score every utterance of `reader` (an `emotion2vec.audio.AudioReader`) into `out_dir`.

    `segment_times`: utterance -> (recording, start, end) when the input has a `segments`
    file (then results carry times within the recording and feed the timeline).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    st = settings
    sr = predictor.sample_rate
    shift = st.segment_shift if st.segment_shift else (st.segment_length or 0) / 2
    if st.segment_length is not None and (st.segment_length <= 0 or shift <= 0):
        raise E2VError(f"--segment-length/--segment-shift must be positive "
                       f"(got {st.segment_length}, {shift})")
    emb = writers.EmbeddingWriter(out, st.embeddings) if st.embeddings else None
    res = Result()
    scorer = _Scorer(predictor, st, emb, res)
    t_begin = time.time()
    keys = list(reader.keys)
    progress = None
    if st.progress:
        progress = tqdm(total=len(keys), unit="utt", desc="infer", file=sys.stderr,
                        mininterval=1.0 if sys.stderr.isatty() else 30.0)
    try:
        for utt in keys:
            try:
                wav = _read(reader, utt, predictor.min_samples, st.skip_bad, res.bad)
            finally:
                if progress is not None:
                    progress.update(1)
            if wav is None:
                continue
            res.audio_seconds += len(wav) / sr
            for unit in _units(utt, wav, sr, st, shift, segment_times):
                scorer.add(unit)
        if scorer.buffer:
            scorer.flush()
    finally:
        if progress is not None:
            progress.close()
    if emb is not None:
        emb.close()
        res.embedded = emb.keys
    res.utt_records += _window_utterances(scorer.pieces, scorer.classes, segment_times)
    res.elapsed = time.time() - t_begin
    writers.finalize(out, res.utt_records, res.window_records, scorer.classes, st.timeline_step)
    bad_path = out / "bad_utts"
    if res.bad:
        write_kv(bad_path, res.bad)
    elif bad_path.exists():
        bad_path.unlink()
    return res
