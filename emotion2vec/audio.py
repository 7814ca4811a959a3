"""The one way the toolkit reads audio: wav.scp entries (+ segments) -> 16 kHz mono float32.

A `wav.scp` value takes one of Kaldi's three forms:

* a path to anything soundfile (libsndfile) reads: wav, flac, ogg, ... of any rate, bit depth
  and channel count;
* ``<command> |``: a shell pipeline run with ``bash -o pipefail``; its whole standard output is
  the audio file and a non-zero exit status is an error (Kaldi's readers accept a failed pipe);
* ``<file.ark>:<offset>``: a wave object inside a Kaldi archive (as ``wav-copy`` writes it: the
  offset points at a RIFF header).

Integer PCM becomes float in [-1, 1]; several channels are averaged; other rates are
resampled with soxr (HQ).  With a ``segments`` file each utterance is a slice of a recording
(sliced at the recording's own rate, then resampled, so a segment gives the same samples as
the same stretch cut into a file of its own).  Every failure raises `E2VError` naming the
utterance and the reason.
"""

from __future__ import annotations

import io
import os
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple, Union

import numpy as np
import soundfile as sf

from emotion2vec.datadir import c_sort_key, read_kv
from emotion2vec.errors import E2VError

SAMPLE_RATE = 16000
# How far a segment's end may lie past the end of its recording before it is an error
# (seconds; the default of Kaldi's extract-segments --max-overshoot).
MAX_SEGMENT_OVERSHOOT = 0.5
# Characters of a failed command's stderr quoted in the error.
_STDERR_TAIL = 600

_ARK_RE = re.compile(r"^(?P<path>.+):(?P<offset>\d+)$")

PathLike = Union[str, os.PathLike]


def entry_kind(entry: str) -> str:
    """'pipe', 'ark' or 'file' for a wav.scp value."""
    entry = entry.strip()
    if entry.endswith("|"):
        return "pipe"
    if _ARK_RE.match(entry) and not os.path.exists(entry):
        return "ark"
    return "file"


def _decode(data: Union[bytes, str], what: str) -> Tuple[np.ndarray, int]:
    """Decode an audio file (bytes or a path) into float32 [samples, channels]."""
    try:
        src = io.BytesIO(data) if isinstance(data, bytes) else data
        x, sr = sf.read(src, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise E2VError(f"{what}: cannot read audio: {e}") from None
    return x, int(sr)


def _run_pipe(command: str, what: str) -> bytes:
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", command],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip()[-_STDERR_TAIL:]
        raise E2VError(f"{what}: command failed with exit status {proc.returncode}: "
                       f"{command!r}" + (f"; its stderr ends: {tail}" if tail else ""))
    if not proc.stdout:
        raise E2VError(f"{what}: command wrote no audio: {command!r}")
    return proc.stdout


def _read_ark_wave(path: str, offset: int, what: str) -> bytes:
    """The RIFF bytes of a wave object stored at `offset` in a Kaldi archive."""
    if not os.path.isfile(path):
        raise E2VError(f"{what}: no such archive: {path}")
    with open(path, "rb") as f:
        f.seek(offset)
        head = f.read(8)
        if head[:2] == b"\0B":  # tolerate a binary-mode marker before the RIFF header
            head = head[2:] + f.read(2)
        if len(head) < 8 or head[:4] not in (b"RIFF", b"RIFX"):
            raise E2VError(f"{what}: no wave (RIFF header) at offset {offset} of {path}")
        (size,) = struct.unpack("<I" if head[:4] == b"RIFF" else ">I", head[4:])
        body = f.read(size)
        if len(body) < size:
            raise E2VError(f"{what}: wave object at offset {offset} of {path} is truncated "
                           f"({len(body)} of {size} bytes)")
    return head + body


def read_entry(entry: str, what: str = "audio") -> Tuple[np.ndarray, int]:
    """Decode one wav.scp value into (float32 [samples, channels], sample rate).

    `what` names the utterance/recording in error messages.
    """
    entry = entry.strip()
    kind = entry_kind(entry)
    if kind == "pipe":
        return _decode(_run_pipe(entry[:-1].strip(), what), what)
    if kind == "ark":
        m = _ARK_RE.match(entry)
        return _decode(_read_ark_wave(m["path"], int(m["offset"]), what), what)
    if not os.path.isfile(entry):
        raise E2VError(f"{what}: no such file: {entry}")
    return _decode(entry, what)


def to_mono(x: np.ndarray) -> np.ndarray:
    """Average the channels of [samples, channels] (a 1-D array is returned as is)."""
    if x.ndim == 1:
        return x
    return x[:, 0].copy() if x.shape[1] == 1 else x.mean(axis=1, dtype=np.float32)


def resample(x: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    if rate == target:
        return np.ascontiguousarray(x, dtype=np.float32)
    import soxr  # imported lazily: only needed for other rates

    return soxr.resample(np.ascontiguousarray(x, dtype=np.float32), rate, target,
                         quality="HQ").astype(np.float32, copy=False)


def _check(x: np.ndarray, what: str) -> np.ndarray:
    if x.size == 0:
        raise E2VError(f"{what}: empty audio (0 samples)")
    if not np.isfinite(x).all():
        raise E2VError(f"{what}: audio contains NaN or Inf samples")
    return x


def load_audio(entry: str, what: str = "audio", sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One wav.scp value -> mono float32 at `sample_rate` (checked: not empty, finite)."""
    x, rate = read_entry(entry, what)
    return resample(_check(to_mono(x), what), rate, sample_rate)


@dataclass(frozen=True)
class Segment:
    recording: str
    start: float
    end: float  # -1: to the end of the recording


def read_segments(path: PathLike) -> Dict[str, Segment]:
    """A Kaldi segments file: `<utt> <recording> <start-sec> <end-sec>` (end -1 = to the end)."""
    out = {}
    for lineno, (utt, value) in enumerate(read_kv(path, check_sorted=False, ncols=3).items(), 1):
        reco, start_s, end_s = value.split()
        try:
            start, end = float(start_s), float(end_s)
        except ValueError:
            raise E2VError(f"{path}: utterance {utt}: start/end are not numbers: {value!r}") from None
        if start < 0 or (end != -1 and end <= start):
            raise E2VError(f"{path}: utterance {utt}: bad segment times start={start_s} end={end_s}")
        out[utt] = Segment(reco, start, end)
    return out


class AudioReader:
    """Utterances of a data dir (or a wav.scp [+ segments]) as 16 kHz mono float32 arrays.

    `source` is a data directory (its `segments` is used when present) or a wav.scp file.
    `.keys` are the utterance ids in `LC_ALL=C` order; `.read(utt)` decodes one; iterating gives
    `(utt, wav)` pairs in key order.  One decoded recording is cached while consecutive
    segments share it.
    """

    def __init__(self, source: PathLike, segments: Optional[PathLike] = None,
                 sample_rate: int = SAMPLE_RATE):
        source = Path(source)
        if source.is_dir():
            wav_scp = source / "wav.scp"
            if segments is None and (source / "segments").is_file():
                segments = source / "segments"
        else:
            wav_scp = source
        if not wav_scp.is_file():
            raise E2VError(f"{wav_scp}: no such file")
        self.sample_rate = sample_rate
        self.wav_scp = wav_scp
        self._wav: Dict[str, str] = dict(read_kv(wav_scp, check_sorted=False))
        self._segments: Optional[Dict[str, Segment]] = None
        if segments is not None:
            self._segments = read_segments(segments)
            for utt, seg in self._segments.items():
                if seg.recording not in self._wav:
                    raise E2VError(f"{segments}: utterance {utt}: recording '{seg.recording}' "
                                   f"is not in {wav_scp}")
        ids = self._segments if self._segments is not None else self._wav
        self.keys: List[str] = sorted(ids, key=c_sort_key)
        self._cache: Tuple[Optional[str], Optional[np.ndarray], int] = (None, None, 0)

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, utt: str) -> bool:
        return utt in (self._segments if self._segments is not None else self._wav)

    def __iter__(self) -> Iterator[Tuple[str, np.ndarray]]:
        for utt in self.keys:
            yield utt, self.read(utt)

    def entry(self, utt: str) -> str:
        """The wav.scp value behind an utterance (its recording's, with segments)."""
        if self._segments is not None:
            return self._wav[self._segments[utt].recording]
        return self._wav[utt]

    def read(self, utt: str) -> np.ndarray:
        if utt not in self:
            raise E2VError(f"utterance {utt}: not in {self.wav_scp}"
                           + (" / segments" if self._segments is not None else ""))
        if self._segments is None:
            return load_audio(self._wav[utt], f"utterance {utt}", self.sample_rate)
        seg = self._segments[utt]
        what = f"utterance {utt} (recording {seg.recording})"
        x, rate = self._recording(seg.recording, what)
        n = len(x)
        first = int(round(seg.start * rate))
        last = n if seg.end == -1 else int(round(seg.end * rate))
        if last > n:
            if (last - n) > MAX_SEGMENT_OVERSHOOT * rate:
                raise E2VError(f"{what}: segment end {seg.end} s is past the end of the "
                               f"recording ({n / rate:.3f} s)")
            last = n
        if first >= last:
            raise E2VError(f"{what}: segment {seg.start}-{seg.end} s is empty "
                           f"(recording is {n / rate:.3f} s)")
        return resample(_check(x[first:last], what), rate, self.sample_rate)

    def _recording(self, reco: str, what: str) -> Tuple[np.ndarray, int]:
        cached, x, rate = self._cache
        if cached != reco:
            # Decode errors name the utterance that needed the recording.
            x, rate = read_entry(self._wav[reco], what)
            x = to_mono(x)
            if x.size == 0:
                raise E2VError(f"{what}: empty audio (0 samples)")
            self._cache = (reco, x, rate)
        return x, rate


__all__ = ["SAMPLE_RATE", "MAX_SEGMENT_OVERSHOOT", "entry_kind", "read_entry", "to_mono",
           "resample", "load_audio", "Segment", "read_segments", "AudioReader"]
