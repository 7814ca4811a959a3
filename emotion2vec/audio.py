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

Truncated audio is an error, never a short waveform (libsndfile silently decodes what is
there): a WAVE (RIFF, RIFX, RF64) whose data chunk, or a NIST SPHERE whose sample_count,
declares more than the file, the pipe's output or the archive entry holds; a FLAC that
decodes fewer samples than its STREAMINFO declares; a decoded duration that disagrees with
the data dir's ``utt2dur`` (or, with segments, ``reco2dur``) by more than
`DURATION_TOLERANCE`.  Streamed WAVs whose writer could not know the length (data sizes
from 0x7FFF0000 up: sox and espeak-ng write 0x7FFFF000, ffmpeg 0xFFFFFFFF) are read to their
end as before.
"""

from __future__ import annotations

import io
import os
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Dict, Iterator, List, Optional, Tuple, Union

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
# utt2dur / reco2dur vs the decoded duration: one 10 ms frame (Kaldi's utt2dur from
# utt2num_frames, `(frames + 1.5) * shift`, is up to 10 ms short; files printing 2 decimals
# are 5 ms off) plus 1e-5 of the duration (wav-to-duration prints 6-7 significant digits).
DURATION_TOLERANCE = 0.01
_DURATION_REL_TOLERANCE = 1e-5
# WAVE data sizes from here up are placeholders of writers that could not seek back (sox and
# espeak-ng to a pipe: 0x7FFFF000, rounded down to the block; ffmpeg: 0xFFFFFFFF).  A WAVE of
# over 2 GiB whose data chunk was cut therefore goes unnoticed (no false alarm instead).
_UNKNOWN_SIZE = 0x7FFF0000
_WAVE_FRAME_TAGS = (1, 3, 6, 7)  # PCM, IEEE float, A-law, mu-law: one block per frame
_MAX_CHUNKS = 64  # chunks walked before giving up on finding 'data' (no check then)
_NIST_FIELD = re.compile(rb"^(\w+) -(?:i|r|s\d+) (\S+)", re.M)

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


def _wave_truncation(f: BinaryIO, size: int) -> Optional[Tuple[str, str]]:
    """(declared, held) amounts when the WAVE in `f` (`size` bytes from 0) is truncated.

    Walks the chunks up to 'data' with small reads (no decoding) and compares the data
    chunk's declared size with the bytes there are.  Not a WAVE, no 'data' within
    `_MAX_CHUNKS` chunks, an unknown (streamed) size or a complete file: None.
    """
    head = f.read(12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX", b"RF64") or head[8:] != b"WAVE":
        return None
    order = ">" if head[:4] == b"RIFX" else "<"
    pos, fmt, ds64_data = 12, b"", None
    for _ in range(_MAX_CHUNKS):
        f.seek(pos)
        chunk = f.read(8)
        if len(chunk) < 8:
            return None
        cid, n = struct.unpack(order + "4sI", chunk)
        if cid == b"data":
            break
        if cid == b"fmt ":
            fmt = f.read(min(n, 40))
        elif cid == b"ds64":  # RF64: the 64-bit sizes (riff, data, sample count)
            body = f.read(16)
            ds64_data = struct.unpack("<Q", body[8:])[0] if len(body) == 16 else None
        pos += 8 + n + (n & 1)  # chunks are padded to an even size
    else:
        return None
    if head[:4] == b"RF64" and n == 0xFFFFFFFF:
        if ds64_data is None or ds64_data >= 1 << 62:
            return None
        n = ds64_data
    elif n >= _UNKNOWN_SIZE:
        return None
    tag, rate, align = 0, 0, 0
    if len(fmt) >= 14:
        tag, _, rate, _, align = struct.unpack(order + "HHIIH", fmt[:14])
        if tag == 0xFFFE and len(fmt) >= 28:  # WAVE_FORMAT_EXTENSIBLE: the GUID's Data1
            tag = struct.unpack(order + "I", fmt[24:28])[0]
    # compressed formats (ADPCM, GSM, ...) are compared in bytes
    return _shortfall(n, size - pos - 8, align if tag in _WAVE_FRAME_TAGS else 0, rate)


def _nist_truncation(f: BinaryIO, size: int) -> Optional[Tuple[str, str]]:
    """`_wave_truncation` for NIST SPHERE (TIMIT, WSJ, ...): sample_count vs the bytes."""
    head = f.read(16)
    if not head.startswith(b"NIST_1A\n") or not head[8:].strip().isdigit():
        return None
    header_size = int(head[8:])
    f.seek(0)
    fields = dict(_NIST_FIELD.findall(f.read(min(header_size, 1 << 16))))
    try:
        count, rate = int(fields[b"sample_count"]), int(fields[b"sample_rate"])
        align = int(fields.get(b"channel_count", 1)) * int(fields[b"sample_n_bytes"])
    except (KeyError, ValueError):
        return None
    if b"embedded" in fields.get(b"sample_coding", b""):  # shorten etc.: sizes unknown
        return None
    return _shortfall(count * align, size - header_size, align, rate)


def _shortfall(declared: int, have: int, align: int, rate: int) -> Optional[Tuple[str, str]]:
    """(declared, held) amounts when `have` bytes of audio hold less than `declared`: in
    frames of `align` bytes at `rate` Hz (bytes when align is 0), else None."""
    if not (align and rate):
        return (f"{declared} bytes of audio data", str(have)) if have < declared else None
    n, m = declared // align, max(0, have) // align
    if m >= n:
        return None  # complete, or short by less than one frame (e.g. a pad byte)
    return f"{n} samples ({n / rate:.3f} s)", f"{m} ({m / rate:.3f} s)"


def _check_header(data: Union[bytes, str], what: str, holder: str) -> None:
    """E2VError if `data` (bytes or a path) holds less audio than its header declares."""
    if isinstance(data, bytes):
        f: BinaryIO = io.BytesIO(data)
        size = len(data)
    else:
        f = open(data, "rb")
        size = os.fstat(f.fileno()).st_size
    with f:
        magic = f.read(4)
        f.seek(0)
        why = (_wave_truncation(f, size) if magic in (b"RIFF", b"RIFX", b"RF64") else
               _nist_truncation(f, size) if magic == b"NIST" else None)
    if why:
        raise E2VError(f"{what}: truncated audio: header declares {why[0]}, {holder} "
                       f"holds {why[1]}")


def _decode(data: Union[bytes, str], what: str) -> Tuple[np.ndarray, int]:
    """Decode an audio file (bytes or a path) into float32 [samples, channels]."""
    try:
        src = io.BytesIO(data) if isinstance(data, bytes) else data
        with sf.SoundFile(src) as f:
            frames, rate, fmt = f.frames, f.samplerate, f.format
            x = f.read(dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise E2VError(f"{what}: cannot read audio: {e}") from None
    # FLAC's STREAMINFO total is exact (libsndfile sizes WAVs from the file instead, and
    # usually fails on a cut FLAC itself; this catches a decoder that stops quietly).
    if fmt == "FLAC" and len(x) < frames:
        raise E2VError(f"{what}: truncated audio: header declares {frames} samples "
                       f"({frames / rate:.3f} s), decoded {len(x)} ({len(x) / rate:.3f} s)")
    return x, int(rate)


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
        command = entry[:-1].strip()
        data: Union[bytes, str] = _run_pipe(command, what)
        holder = f"the output of {command!r}"
    elif kind == "ark":
        m = _ARK_RE.match(entry)
        data = _read_ark_wave(m["path"], int(m["offset"]), what)
        holder = f"the wave object at offset {m['offset']} of {m['path']}"
    elif not os.path.isfile(entry):
        raise E2VError(f"{what}: no such file: {entry}")
    else:
        data, holder = entry, f"file {entry}"
    _check_header(data, what, holder)
    return _decode(data, what)


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


def read_durations(path: PathLike) -> Dict[str, float]:
    """A Kaldi utt2dur / reco2dur file: `<id> <seconds>`."""
    out = {}
    for key, value in read_kv(path, check_sorted=False, ncols=1).items():
        try:
            out[key] = float(value)
        except ValueError:
            raise E2VError(f"{path}: '{key}': duration is not a number: {value!r}") from None
    return out


class AudioReader:
    """Utterances of a data dir (or a wav.scp [+ segments]) as 16 kHz mono float32 arrays.

    `source` is a data directory (its `segments` is used when present) or a wav.scp file.
    `.keys` are the utterance ids in `LC_ALL=C` order; `.read(utt)` decodes one; iterating gives
    `(utt, wav)` pairs in key order.  One decoded recording is cached while consecutive
    segments share it.  A data dir's `utt2dur` (and, with its segments, `reco2dur`) is checked
    against each decoded duration (see `DURATION_TOLERANCE`).
    """

    def __init__(self, source: PathLike, segments: Optional[PathLike] = None,
                 sample_rate: int = SAMPLE_RATE):
        source = Path(source)
        # durations file -> (path, {id: seconds}), only for the data dir's own utterances
        self._durations: Dict[str, Tuple[Path, Dict[str, float]]] = {}
        if source.is_dir():
            wav_scp = source / "wav.scp"
            own_segments = source / "segments"
            if segments is None and own_segments.is_file():
                segments = own_segments
            if segments is None or Path(segments).resolve() == own_segments.resolve():
                for name in ("utt2dur", "reco2dur") if segments is not None else ("utt2dur",):
                    if (source / name).is_file():
                        self._durations[name] = (source / name, read_durations(source / name))
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
            what = f"utterance {utt}"
            x, rate = read_entry(self._wav[utt], what)
            x = _check(to_mono(x), what)
            self._check_duration("utt2dur", utt, len(x), rate, what)
            return resample(x, rate, self.sample_rate)
        seg = self._segments[utt]
        what = f"utterance {utt} (recording {seg.recording})"
        x, rate = self._recording(seg.recording, what)
        n = len(x)
        first = int(round(seg.start * rate))
        last = n if seg.end == -1 else int(round(seg.end * rate))
        clipped = last > n
        if clipped:
            if (last - n) > MAX_SEGMENT_OVERSHOOT * rate:
                raise E2VError(f"{what}: segment end {seg.end} s is past the end of the "
                               f"recording ({n / rate:.3f} s)")
            last = n
        if first >= last:
            raise E2VError(f"{what}: segment {seg.start}-{seg.end} s is empty "
                           f"(recording is {n / rate:.3f} s)")
        if not clipped:  # a clipped segment is shorter than utt2dur (end - start) by design
            self._check_duration("utt2dur", utt, last - first, rate, what)
        return resample(_check(x[first:last], what), rate, self.sample_rate)

    def _check_duration(self, name: str, key: str, n: int, rate: int, what: str) -> None:
        path, durations = self._durations.get(name, (None, {}))
        want, got = durations.get(key), n / rate
        if want is not None and abs(got - want) > (DURATION_TOLERANCE + 1e-9
                                                   + _DURATION_REL_TOLERANCE * want):
            raise E2VError(f"{what}: decoded audio is {got:.3f} s ({n} samples at {rate} Hz) "
                           f"but {path} says {want:.3f} s")

    def _recording(self, reco: str, what: str) -> Tuple[np.ndarray, int]:
        cached, x, rate = self._cache
        if cached != reco:
            # Decode errors name the utterance that needed the recording.
            x, rate = read_entry(self._wav[reco], what)
            x = to_mono(x)
            if x.size == 0:
                raise E2VError(f"{what}: empty audio (0 samples)")
            self._check_duration("reco2dur", reco, len(x), rate, what)
            self._cache = (reco, x, rate)
        return x, rate


__all__ = ["SAMPLE_RATE", "MAX_SEGMENT_OVERSHOOT", "DURATION_TOLERANCE", "entry_kind",
           "read_entry", "to_mono", "resample", "load_audio", "Segment", "read_segments",
           "read_durations", "AudioReader"]
