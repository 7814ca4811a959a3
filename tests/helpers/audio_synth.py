"""A tiny synthetic corpus (espeak-ng + sox) in every wav.scp form, for the audio and
feature tests.  Imported by tests/audio/conftest.py and tests/features/conftest.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import numpy as np
import soundfile as sf

# speaker -> espeak-ng voice and pitch; three speakers, four utterances each
SPEAKERS = {"spk1": ("en-us", 40), "spk2": ("en+f3", 70), "spk3": ("en-gb", 30)}
SENTENCES = ["hello there", "the weather is nice today", "why did you do that",
             "I am very happy to see you"]


def have_tools() -> bool:
    return bool(shutil.which("espeak-ng") and shutil.which("sox"))


def write_kv(path: Path, rows: Dict[str, str]) -> None:
    path.write_text("".join(f"{k} {rows[k]}\n" for k in sorted(rows, key=lambda s: s.encode())))


def make_wavs(root: Path) -> Dict[str, Path]:
    """16 kHz mono 16-bit wav per utterance (ids `<spk>-uNN`), byte-identical between runs."""
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for spk, (voice, pitch) in SPEAKERS.items():
        for i, text in enumerate(SENTENCES):
            utt = f"{spk}-u{i:02d}"
            raw, wav = root / f"{utt}.raw.wav", root / f"{utt}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", "170",
                            "-w", str(raw), text], check=True)
            subprocess.run(["sox", "-R", str(raw), "-r", "16000", "-b", "16", str(wav)], check=True)
            raw.unlink()
            out[utt] = wav
    return out


def make_data_dir(d: Path, wav_scp: Dict[str, str], utts: List[str],
                  segments: Dict[str, str] = None, emo: bool = True) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    write_kv(d / "wav.scp", wav_scp)
    if segments:
        write_kv(d / "segments", segments)
    utt2spk = {u: u.split("-")[0] for u in utts}
    write_kv(d / "utt2spk", utt2spk)
    spk2utt = {}
    for u in sorted(utts):
        spk2utt.setdefault(utt2spk[u], []).append(u)
    write_kv(d / "spk2utt", {s: " ".join(us) for s, us in spk2utt.items()})
    if emo:
        labels = ["ang", "hap", "neu", "sad"]
        write_kv(d / "utt2emo", {u: labels[int(u[-2:]) % 4] for u in utts})
    return d


def make_forms(root: Path) -> Dict[str, Path]:
    """Data dirs holding the same audio as: files, pipes, a wave ark, segments of one long
    recording per speaker.  Returns {"file": dir, "pipe": dir, "ark": dir, "segments": dir}."""
    import kaldi_native_io as kio

    wavs = make_wavs(root / "wav")
    utts = sorted(wavs)
    dirs = {"file": make_data_dir(root / "file", {u: str(p) for u, p in wavs.items()}, utts),
            "pipe": make_data_dir(root / "pipe", {u: f"sox -R {p} -t wav - |"
                                                  for u, p in wavs.items()}, utts)}
    ark = root / "wav" / "waves.ark"
    with kio.WaveWriter(f"ark,scp:{ark},{root / 'wav' / 'waves.scp'}") as w:
        for u in utts:
            x, rate = sf.read(wavs[u], dtype="int16")
            w.write(u, kio.WaveData(rate, x.astype(np.float32)[None]))
    scp = dict(line.split(maxsplit=1) for line in (root / "wav" / "waves.scp").read_text().splitlines())
    dirs["ark"] = make_data_dir(root / "ark", scp, utts)
    # segments: per speaker, its utterances joined with 0.25 s of silence between them
    recs, segs = {}, {}
    for spk in SPEAKERS:
        parts, pos = [], 0
        gap = np.zeros(4000, np.int16)
        for u in [u for u in utts if u.startswith(spk + "-")]:
            x, rate = sf.read(wavs[u], dtype="int16")
            segs[u] = f"{spk}-rec {pos / 16000:.7f} {(pos + len(x)) / 16000:.7f}"
            parts += [x, gap]
            pos += len(x) + len(gap)
        rec = root / "wav" / f"{spk}-rec.flac"
        sf.write(rec, np.concatenate(parts), 16000, subtype="PCM_16")
        recs[f"{spk}-rec"] = str(rec)
    dirs["segments"] = make_data_dir(root / "segments", recs, utts, segments=segs)
    return dirs
