"""Generate a small emotional-speech corpus in the IEMOCAP_full_release layout (espeak-ng + sox).

Five sessions, two speakers each (a female and a male espeak-ng voice per session, different
accents); every speaker says short sentences in four emotions whose prosody differs clearly
(pitch, speed, loudness, spectral tilt), so the task is learnable from plain filterbanks.
Written exactly as IEMOCAP is laid out, so the real `emotion2vec.corpora.iemocap` prepares it:

  SessionN/sentences/wav/<dialog>/<utt>.wav   16 kHz mono sentence wavs
  SessionN/dialog/wav/<dialog>.wav            the dialog: the sentences with pauses between
  SessionN/dialog/EmoEvaluation/<dialog>.txt  label lines + per-evaluator votes
  SessionN/dialog/EmoEvaluation/Categorical/  an evaluator sub-folder (must be skipped)

Dialog names use the pitfalls of the real corpus (impro05a, script01_1b: the speaker is in the
LAST field).  Some sentences are labelled `exc` (merged into hap by the recipe's label map) and
a few `xxx` / `fru` turns are outside the classes.  Deterministic: fixed order, `sox -R`, and
espeak-ng output is itself deterministic; a second run gives byte-identical files.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
import soundfile as sf

from emotion2vec.corpora import common as pc
from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_write_text, replace_dir

RATE = 16000
# Session -> (female voice, male voice); espeak-ng base pitch per gender.
VOICES = {1: ("en-us+f1", "en-us+m1"), 2: ("en-gb+f2", "en-gb+m3"), 3: ("en+f3", "en+m2"),
          4: ("en-us+f4", "en-gb-scotland+m4"), 5: ("en-gb+f5", "en-us+m5")}
BASE_PITCH = {"F": 60, "M": 35}
# emotion -> espeak-ng (pitch offset, words per minute, amplitude <= 100), sox effects, [V, A, D]
EMOTIONS = {
    "neu": (0, 150, 70, [], ("2.5000", "2.5000", "2.5000")),
    "hap": (35, 180, 85, ["treble", "+8", "tremolo", "7", "40"], ("4.0000", "3.5000", "3.0000")),
    "ang": (10, 200, 100, ["overdrive", "12", "gain", "-6"], ("1.5000", "4.5000", "4.0000")),
    "sad": (-20, 105, 45, ["lowpass", "1500"], ("1.5000", "1.5000", "2.0000")),
}
SENTENCES = ["See you at seven.", "Nobody told me.", "The train is late.",
             "We painted it blue.", "You kept the letter.", "That is what she said."]
PAUSE_SAMPLES = 4800  # 0.3 s of silence between turns in the dialog wavs
MS = RATE // 1000


def dialogs_of(n: int) -> List[str]:
    return [f"Ses0{n}F_impro05a", f"Ses0{n}M_script01_1b"]


def synth(text: str, voice: str, pitch: int, speed: int, amp: int, effects: Sequence[str],
          tmp: Path) -> np.ndarray:
    """espeak-ng -> sox (16 kHz mono 16 bit + the emotion's effects) -> float32 samples."""
    raw, out = tmp / "raw.wav", tmp / "out.wav"
    cmd = ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-a", str(amp),
           "-w", str(raw), text]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0 or not raw.is_file():
        raise E2VError(f"espeak-ng failed ({' '.join(cmd)}): {r.stderr.strip()}")
    cmd = ["sox", "-R", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out),
           *effects, "norm", "-3" if amp >= 70 else "-12"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise E2VError(f"sox failed ({' '.join(cmd)}): {r.stderr.strip()}")
    x, rate = sf.read(str(out), dtype="float32")
    assert rate == RATE
    return x


def make(out: Path, sentences_per_emotion: int = 3) -> int:
    """Write <out>/IEMOCAP_full_release (skipped when it exists with the same settings)."""
    emos = list(EMOTIONS)
    top = out / "IEMOCAP_full_release"
    stamp = f"make_mini_corpus sentences_per_emotion={sentences_per_emotion} version=2\n"
    if (top / ".done").is_file() and (top / ".done").read_text() == stamp:
        return 0
    tmp_top = out / ".IEMOCAP_full_release.tmp"
    if tmp_top.exists():
        shutil.rmtree(tmp_top)
    count = hap_turns = 0
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for n in range(1, 6):
            sdir = tmp_top / f"Session{n}"
            ev = sdir / "dialog" / "EmoEvaluation"
            (ev / "Categorical").mkdir(parents=True)
            (sdir / "dialog" / "wav").mkdir(parents=True)
            for d_i, dialog in enumerate(dialogs_of(n)):
                lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"]
                cat_lines = []
                audio: List[np.ndarray] = []
                turn = {"F": 0, "M": 0}
                # both speakers, every emotion, alternating turns; one xxx/fru turn per dialog
                plan = []
                for k in range(sentences_per_emotion):
                    for e_i, emo in enumerate(emos):
                        for g in ("F", "M"):
                            if (k + e_i) % 2 == d_i:  # half of them per dialog
                                plan.append((g, emo, SENTENCES[(k + e_i + n) % len(SENTENCES)]))
                plan.append(("F" if d_i else "M", "xxx" if d_i else "fru", SENTENCES[n]))
                for g, emo, text in plan:
                    pitch_off, speed, amp, effects, avd = EMOTIONS.get(emo, EMOTIONS["neu"])
                    voice = VOICES[n][0 if g == "F" else 1]
                    x = synth(text, voice, BASE_PITCH[g] + pitch_off, speed, amp, effects, tmp)
                    # whole milliseconds: the label lines' 4-decimal spans are then exact, so a
                    # segment of the dialog equals the sentence wav sample for sample
                    x = np.concatenate([x, np.zeros(-len(x) % MS, np.float32)])
                    utt = f"{dialog}_{g}{turn[g]:03d}"
                    turn[g] += 1
                    wav = sdir / "sentences" / "wav" / dialog / f"{utt}.wav"
                    wav.parent.mkdir(parents=True, exist_ok=True)
                    sf.write(str(wav), x, RATE, subtype="PCM_16")
                    start_sample = sum(map(len, audio)) + PAUSE_SAMPLES
                    audio += [np.zeros(PAUSE_SAMPLES, np.float32), x]
                    start, end = start_sample / RATE, (start_sample + len(x)) / RATE
                    # half of the happy turns carry IEMOCAP's `exc` code (merged into hap)
                    label = emo
                    if emo == "hap":
                        hap_turns += 1
                        label = "exc" if hap_turns % 2 == 0 else "hap"
                    lines.append(f"[{start:.4f} - {end:.4f}]\t{utt}\t{label}\t"
                                 f"[{avd[0]}, {avd[1]}, {avd[2]}]\n"
                                 f"C-E1:\t{label};\t()\nC-E2:\t{label};\t()\n"
                                 f"A-E1:\tval {avd[0][0]}; act {avd[1][0]}; dom {avd[2][0]};\t()\n\n")
                    cat_lines.append(f"{utt} :{label}; ()\n")
                    count += 1
                audio.append(np.zeros(PAUSE_SAMPLES, np.float32))
                sf.write(str(sdir / "dialog" / "wav" / f"{dialog}.wav"), np.concatenate(audio),
                         RATE, subtype="PCM_16")
                atomic_write_text(ev / f"{dialog}.txt", "".join(lines))
                atomic_write_text(ev / "Categorical" / f"{dialog}_e1_cat.txt", "".join(cat_lines))
    atomic_write_text(tmp_top / ".done", stamp)  # complete: a rerun reuses it
    replace_dir(tmp_top, top, replaceable=_not_generated)
    return count


def _not_generated(top: Path) -> Optional[str]:
    """Only a corpus this script made may be replaced (never a real IEMOCAP given by mistake)."""
    done = top / ".done"
    if done.is_file() and done.read_text().startswith("make_mini_corpus "):
        return None
    return "it is not a corpus emotion2vec.corpora.mini generated (no .done stamp of it)"


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sentences-per-emotion", type=int, default=3,
                   help="sentences each speaker says in each emotion")
    p.add_argument("out_dir", help="folder to hold IEMOCAP_full_release/")
    a = p.parse_args(argv)
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise E2VError(f"{tool} not found: install it (Debian: apt-get install espeak-ng sox)")
    n = make(Path(a.out_dir).resolve(), a.sentences_per_emotion)
    where = Path(a.out_dir) / "IEMOCAP_full_release"
    print(f"corpora.mini: wrote {n} utterances to {where}" if n else
          f"corpora.mini: {where} is complete with these settings; kept")
    return 0


if __name__ == "__main__":
    pc.run(main, "corpora.mini")
