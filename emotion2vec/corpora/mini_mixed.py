"""egs/mini only: rewrite a prepared data dir so its wav.scp uses every Kaldi form at once.

Input: the same utterances prepared twice by emotion2vec.corpora.iemocap, once with sentence wavs
and once with `--audio dialog` (dialog wavs + segments).  Output: one valid data dir whose
`segments` + `wav.scp` mix
  * dialog recordings cut by the label lines' time spans (sessions 1 and 2),
  * plain sentence files,
  * `sox <file> -t wav - |` pipes,
  * wave objects in a Kaldi archive (`<abs.ark>:<offset>`, written with kaldi_native_io),
the last three as whole-recording segments (`<utt> <utt> 0 <duration>`), so every reader path
of the toolkit runs in the demo and in CI.  All other files are carried over unchanged.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import soundfile as sf

from emotion2vec.corpora import common as pc
from emotion2vec.datadir import is_pipe, read_classes, read_kv
from emotion2vec.errors import E2VError

SEGMENT_SESSIONS = ("Ses01", "Ses02")
CARRIED = ("utt2session", "utt2avd")


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("sentence_dir", help="data dir prepared with sentence wavs")
    p.add_argument("dialog_dir", help="the same prepared with --audio dialog (has segments)")
    p.add_argument("ark_dir", help="where the wave archive is written")
    p.add_argument("out_dir", help="output data dir")
    a = p.parse_args(argv)
    import kaldi_native_io as kio

    sent, dial = Path(a.sentence_dir), Path(a.dialog_dir)
    wav = read_kv(sent / "wav.scp")
    utt2spk = read_kv(sent / "utt2spk")
    session = read_kv(sent / "utt2session")
    d_wav, d_seg = read_kv(dial / "wav.scp"), read_kv(dial / "segments")
    if set(d_seg) != set(utt2spk):
        raise E2VError(f"{sent} and {dial} do not hold the same utterances")
    if any(is_pipe(e) or not Path(e).is_file() for e in wav.values()):
        raise E2VError(f"{sent}/wav.scp: want plain sentence wav files")

    ark_dir = Path(a.ark_dir).resolve()
    ark_dir.mkdir(parents=True, exist_ok=True)
    ark, scp = ark_dir / "mini_wav.ark", ark_dir / "mini_wav.scp"
    new_wav, segments, to_ark = {}, {}, []
    others = [u for u in utt2spk if session[u] not in SEGMENT_SESSIONS]
    for u in utt2spk:
        if session[u] in SEGMENT_SESSIONS:
            rec = d_seg[u].split()[0]
            new_wav[rec] = d_wav[rec]
            segments[u] = d_seg[u]
            continue
        info = sf.info(wav[u])
        segments[u] = f"{u} 0 {info.frames / info.samplerate:.6f}"
        form = others.index(u) % 3
        if form == 0:
            new_wav[u] = wav[u]
        elif form == 1:
            new_wav[u] = f"sox {shlex.quote(wav[u])} -t wav - |"
        else:
            to_ark.append(u)
    writer = kio.WaveWriter(f"ark,scp:{ark},{scp}")
    for u in to_ark:
        x, rate = sf.read(wav[u], dtype="int16")
        writer.write(u, kio.WaveData(float(rate), x.astype(np.float32)[None, :]))
    writer.close()
    for line in scp.read_text().splitlines():
        u, entry = line.split(maxsplit=1)
        new_wav[u] = entry if Path(entry.rsplit(":", 1)[0]).is_absolute() else f"{ark_dir}/{entry}"

    genders = read_kv(sent / "spk2gender")
    pc.write_data_dir(a.out_dir, wav_scp=new_wav, segments=segments, utt2spk=utt2spk,
                      utt2emo=read_kv(sent / "utt2emo"), spk2gender=genders,
                      classes=read_classes(sent / "emotions.txt"),
                      extra={f: read_kv(sent / f) for f in CARRIED if (sent / f).is_file()})
    kinds = {"dialog segments": len(segments) - len(others),
             "files": sum(1 for i in range(len(others)) if i % 3 == 0),
             "pipes": sum(1 for i in range(len(others)) if i % 3 == 1), "ark": len(to_ark)}
    print("corpora.mini_mixed: " + ", ".join(f"{k} {v}" for k, v in kinds.items())
          + f" -> {a.out_dir}")
    return 0


if __name__ == "__main__":
    pc.run(main, "corpora.mini_mixed")
