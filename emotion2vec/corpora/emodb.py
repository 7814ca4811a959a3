"""EmoDB (Berlin Database of Emotional Speech, unzipped download.zip) -> Kaldi data dir.

`wav/SSTTTEV.wav`: SS speaker, TTT text code, E emotion letter (German initial), V version.
Utterance ids become `<speaker>-<name>`, e.g. `03-03a01Fa`.  Writes wav.scp, utt2spk, spk2utt,
utt2emo, utt2gender, spk2gender, emotions.txt, and with `--folds speaker-pairs` utt2fold
(5 speaker-pair folds); the default protocol, leave-one-speaker-out, needs no fold file.
`--min-recognition P` keeps files whose listener recognition rate in `erkennung.txt` is >= P %.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Dict, Optional, Sequence

from emotion2vec.corpora import common as pc
from emotion2vec.errors import E2VError

CORPUS = "EmoDB"
TEXTS = ("a01", "a02", "a04", "a05", "a07", "b01", "b02", "b03", "b09", "b10")
NAME_RE = re.compile(r"^(\d\d)(" + "|".join(TEXTS) + r")([WLEAFTN])([a-z])\.wav$")
# Emotion letter -> label written to utt2emo (the recipe's emotions.txt picks the classes).
LETTERS = {"W": "ang", "L": "bor", "E": "dis", "A": "fea", "F": "hap", "T": "sad", "N": "neu"}
MALE = ("03", "10", "11", "12", "15")
FEMALE = ("08", "09", "13", "14", "16")
PAIRS = (("03", "08"), ("09", "10"), ("11", "13"), ("12", "14"), ("15", "16"))
PUBLISHED_CLASSES = {"ang": 127, "bor": 81, "dis": 46, "fea": 69, "hap": 71, "neu": 79,
                     "sad": 62}
PUBLISHED_SPEAKERS = {"03": 49, "08": 58, "09": 43, "10": 38, "11": 55, "12": 35, "13": 61,
                      "14": 69, "15": 56, "16": 71}


def read_recognition(path: Path) -> Dict[str, float]:
    """erkennung.txt (Latin-1, whitespace columns, decimal comma): name -> 'erkannt' rate (%)."""
    if not path.is_file():
        raise E2VError(f"{path}: no such file (--min-recognition needs the corpus's erkennung.txt)")
    lines = path.read_text(encoding="latin-1").replace("\xa0", " ").splitlines()
    rows = [(n, ln.split()) for n, ln in enumerate(lines, 1) if ln.strip()]
    if not rows or "Satz" not in rows[0][1] or "erkannt" not in rows[0][1]:
        raise E2VError(f"{path}:1: header with columns 'Satz' and 'erkannt' expected")
    header = rows[0][1]
    i_name, i_rate = header.index("Satz"), header.index("erkannt")
    out = {}
    for lineno, f in rows[1:]:
        try:
            name = Path(f[i_name]).name
            rate = float(f[i_rate].replace(",", "."))
        except (IndexError, ValueError):
            raise E2VError(f"{path}:{lineno}: malformed line: {lines[lineno - 1]!r}") from None
        out[name if name.endswith(".wav") else name + ".wav"] = rate
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = pc.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--classes", required=True, help="class inventory, e.g. conf/emotions.txt")
    p.add_argument("--folds", choices=("speaker", "speaker-pairs"), default="speaker",
                   help="speaker: leave-one-speaker-out (no fold file); speaker-pairs: "
                        "utt2fold with the 5 folds 03+08 09+10 11+13 12+14 15+16")
    p.add_argument("--min-recognition", type=float, default=0.0,
                   help="keep files recognised by at least this %% of listeners (erkennung.txt)")
    p.add_argument("corpus_dir", help="the unzipped download.zip (holds wav/)")
    p.add_argument("data_dir", help="output data dir")
    a = p.parse_args(argv)

    root = Path(a.corpus_dir).resolve()
    wav_dir = root / "wav"
    if not wav_dir.is_dir():
        raise E2VError(f"{a.corpus_dir}: not an EmoDB folder: it must contain wav/ with the 535 "
                       "SSTTTEV.wav files (set EMODB in db.sh or pass --corpus-dir)")
    classes = pc.load_classes(a.classes)
    unknown = [c for c in classes if c not in LETTERS.values()]
    if unknown:
        raise E2VError(f"{a.classes}: class '{unknown[0]}' is not an EmoDB label "
                       f"(known: {' '.join(LETTERS.values())})")
    rates = read_recognition(root / "erkennung.txt") if a.min_recognition > 0 else None

    wav_scp, utt2spk, utt2emo, utt2fold = {}, {}, {}, {}
    found, dropped, below = 0, Counter(), 0
    for wav in sorted(wav_dir.iterdir()):
        if wav.suffix.lower() != ".wav":
            pc.warn(f"{wav}: not a .wav file; skipped")
            continue
        m = NAME_RE.match(wav.name)
        if not m:
            raise E2VError(f"{wav}: name does not follow SSTTTEV.wav (speaker, text code, "
                           "emotion letter, version)")
        spk, _, letter, _ = m.groups()
        if spk not in MALE + FEMALE:
            raise E2VError(f"{wav}: unknown speaker '{spk}'")
        found += 1
        label = LETTERS[letter]
        if label not in classes:
            dropped[label] += 1
            continue
        if rates is not None:
            if wav.name not in rates:
                raise E2VError(f"{root / 'erkennung.txt'}: no recognition rate for {wav.name}")
            if rates[wav.name] < a.min_recognition:
                below += 1
                continue
        utt = f"{spk}-{wav.stem}"
        wav_scp[utt] = str(wav)
        utt2spk[utt] = spk
        utt2emo[utt] = label
        utt2fold[utt] = str(next(i for i, pr in enumerate(PAIRS, 1) if spk in pr))
    print(f"{CORPUS}: {found} files; outside the classes "
          f"({' '.join(f'{k} {v}' for k, v in sorted(dropped.items())) or 'none'}); "
          f"below {a.min_recognition:g}% recognition: {below}; kept {len(utt2emo)}")
    full = set(classes) == set(LETTERS.values()) and rates is None
    pc.check_total(CORPUS, "files", found, 535, a.strict)
    pc.report_classes_and_speakers(CORPUS, utt2emo, utt2spk,
                                   PUBLISHED_CLASSES if full else None,
                                   PUBLISHED_SPEAKERS if full else None, a.strict)
    spk2gender = {s: "m" for s in MALE} | {s: "f" for s in FEMALE}
    pc.write_data_dir(a.data_dir, wav_scp=wav_scp, utt2spk=utt2spk, utt2emo=utt2emo,
                      spk2gender=spk2gender, classes=classes,
                      extra={"utt2fold": utt2fold} if a.folds == "speaker-pairs" else None)
    print(f"{CORPUS}: wrote {a.data_dir} ({len(utt2emo)} utterances, "
          f"{len(set(utt2spk.values()))} speakers)")
    return 0


if __name__ == "__main__":
    pc.run(main, "corpora.emodb")
