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
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from emotion2vec.datadir import c_sort_key, write_kv
from emotion2vec.errors import E2VError
from emotion2vec.inference.predictor import Predictor
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


def run(predictor: Predictor, reader, out_dir: os.PathLike, settings: Settings,
        segment_times: Optional[Dict[str, Tuple[str, float, float]]] = None) -> Result:
    """Score every utterance of `reader` (an `emotion2vec.audio.AudioReader`) into `out_dir`.

    `segment_times`: utterance -> (recording, start, end) when the input has a `segments`
    file (then results carry times within the recording and feed the timeline).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    st = settings
    classes = list(predictor.classes)
    sr = predictor.sample_rate
    windowed = st.segment_length is not None
    shift = st.segment_shift if st.segment_shift else (st.segment_length or 0) / 2
    if windowed and (st.segment_length <= 0 or shift <= 0):
        raise E2VError(f"--segment-length/--segment-shift must be positive "
                       f"(got {st.segment_length}, {shift})")
    emb = writers.EmbeddingWriter(out, st.embeddings) if st.embeddings else None
    res = Result()
    pieces: Dict[str, List[Piece]] = {}
    budget = max(1, int(st.batch_seconds * sr))  # 0: one utterance at a time
    t_begin = time.time()

    buffer: List[_Unit] = []
    buffered = 0

    def flush():
        from emotion2vec.features.batching import plan_batches

        for batch in plan_batches([len(u.wav) for u in buffer], budget):
            for i in range(0, len(batch), st.max_batch):
                units = [buffer[j] for j in batch[i:i + st.max_batch]]
                post, embs = predictor.predict([u.wav for u in units],
                                               want_embeddings=emb is not None)
                post = np.asarray(post, dtype=np.float32)
                _check_posteriors(post, len(units), classes, [u.key for u in units])
                for k, u in enumerate(units):
                    if windowed:
                        res.window_records.append(writers.scores_record(
                            u.key, classes, post[k], parent=u.parent, reco=u.reco,
                            start=u.start, end=u.end))
                        pieces.setdefault(u.parent, []).append(
                            Piece(u.reco, u.start, u.end, post[k]))
                    else:
                        res.utt_records.append(writers.scores_record(
                            u.key, classes, post[k], reco=u.reco, start=u.start, end=u.end))
                    if emb is not None:
                        emb.write(u.key, embs[k])

    keys = list(reader.keys)
    progress = None
    if st.progress:
        from tqdm import tqdm
        progress = tqdm(total=len(keys), unit="utt", desc="infer", file=sys.stderr,
                        mininterval=1.0 if sys.stderr.isatty() else 30.0)
    try:
        for utt in keys:
            try:
                wav = reader.read(utt)
                if len(wav) < predictor.min_samples:
                    raise E2VError(f"utterance {utt}: too short to score ({len(wav)} samples, "
                                   f"the model needs at least {predictor.min_samples})")
            except E2VError as e:
                if not st.skip_bad:
                    raise
                msg = str(e)
                print(f"infer: warning: skipping: {msg}", file=sys.stderr)
                res.bad.append((utt, msg.replace("\n", " ")))
                continue
            finally:
                if progress is not None:
                    progress.update(1)
            dur = len(wav) / sr
            res.audio_seconds += dur
            if segment_times is not None and utt in segment_times:
                reco, off, _ = segment_times[utt]
            else:
                reco, off = utt, 0.0
            if windowed:
                for s, e in window_bounds(len(wav), sr, st.segment_length, shift):
                    ts, te = round(off + s / sr, 3), round(off + e / sr, 3)
                    buffer.append(_Unit(window_id(utt, ts, te), utt, reco, ts, te, wav[s:e]))
                    buffered += e - s
                    if buffered >= st.buffer_seconds * sr:
                        flush()
                        buffer, buffered = [], 0
            else:
                timed = segment_times is not None
                buffer.append(_Unit(utt, utt, reco if timed else None,
                                    round(off, 3) if timed else None,
                                    round(off + dur, 3) if timed else None, wav))
                buffered += len(wav)
                if buffered >= st.buffer_seconds * sr:
                    flush()
                    buffer, buffered = [], 0
        if buffer:
            flush()
            buffer = []
    finally:
        if progress is not None:
            progress.close()
    if emb is not None:
        emb.close()
        res.embedded = emb.keys
    if windowed:
        for parent in sorted(pieces, key=c_sort_key):
            p = pieces[parent]
            extra = {}
            if segment_times is not None and parent in segment_times:
                reco, s, _ = segment_times[parent]
                extra = {"reco": reco, "start": round(min(x.start for x in p), 3),
                         "end": round(max(x.end for x in p), 3)}
            res.utt_records.append(writers.combine_windows(parent, p, classes, **extra))
    res.elapsed = time.time() - t_begin
    writers.finalize(out, res.utt_records, res.window_records, classes, st.timeline_step)
    bad_path = out / "bad_utts"
    if res.bad:
        write_kv(bad_path, res.bad)
    elif bad_path.exists():
        bad_path.unlink()
    return res
