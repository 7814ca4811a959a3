"""What inference reads: a Kaldi data dir, a wav.scp, or plain audio files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

from emotion2vec.audio import AudioReader, read_segments
from emotion2vec.datadir import write_kv
from emotion2vec.errors import E2VError

SegmentTimes = Dict[str, Tuple[str, float, float]]

_ID_OK = re.compile(r"^\S+$")


def files_to_wav_scp(files: Sequence[str], wav_scp: Path) -> None:
    """A wav.scp for plain audio files; ids are the file names without extension."""
    pairs = {}
    for f in files:
        p = Path(f)
        if not p.is_file():
            raise E2VError(f"{f}: no such audio file")
        utt = p.name.split(".", 1)[0] if not p.name.startswith(".") else p.name
        if not _ID_OK.match(utt) or not utt:
            raise E2VError(f"{f}: the file name gives no usable utterance id (no spaces allowed)")
        if utt in pairs:
            raise E2VError(f"{f}: utterance id '{utt}' also comes from {pairs[utt]}; "
                           "rename one or use a wav.scp")
        pairs[utt] = str(p.resolve())
    write_kv(wav_scp, pairs)


def open_input(inputs: Sequence[str], work_dir: Path, segments: Optional[str] = None,
               sample_rate: int = 16000):
    """(AudioReader, segment times or None, description) for the command-line inputs.

    One directory: a Kaldi data dir (its `segments` is used when present). One file ending in
    `.scp`: a wav.scp. Anything else: audio files, written to `<work_dir>/wav.scp`.
    """
    if not inputs:
        raise E2VError("no input given (a data dir, a wav.scp or audio files)")
    first = Path(inputs[0])
    if len(inputs) == 1 and first.is_dir():
        if not (first / "wav.scp").is_file():
            raise E2VError(f"{first}: not a data directory (no wav.scp)")
        seg = Path(segments) if segments else (first / "segments" if (first / "segments").is_file() else None)
        reader = AudioReader(first, segments=seg, sample_rate=sample_rate)
        source = {"data_dir": str(first.resolve())}
    elif len(inputs) == 1 and first.suffix == ".scp":
        if not first.is_file():
            raise E2VError(f"{first}: no such file")
        seg = Path(segments) if segments else None
        reader = AudioReader(first, segments=seg, sample_rate=sample_rate)
        source = {"wav_scp": str(first.resolve())}
    else:
        for f in inputs:
            if Path(f).is_dir():
                raise E2VError(f"{f}: a directory among several inputs; give one data dir, "
                               "one wav.scp, or audio files")
        if segments:
            raise E2VError("--segments needs a wav.scp or data dir input, not audio files")
        wav_scp = work_dir / "wav.scp"
        files_to_wav_scp(inputs, wav_scp)
        seg = None
        reader = AudioReader(wav_scp, sample_rate=sample_rate)
        source = {"files": len(inputs), "wav_scp": str(wav_scp.resolve())}
    times: Optional[SegmentTimes] = None
    if seg is not None:
        times = {u: (s.recording, s.start, s.end) for u, s in read_segments(seg).items()}
        source["segments"] = str(Path(seg).resolve())
    return reader, times, source


__all__ = ["open_input", "files_to_wav_scp", "SegmentTimes"]
