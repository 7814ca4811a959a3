"""RAVDESS speech (Actor_01..Actor_24/MM-VV-EE-II-SS-RR-AA.wav|.flac) -> Kaldi data dir.

The name says everything: EE emotion (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry,
06 fearful, 07 disgust, 08 surprised), II intensity (01 normal, 02 strong), SS statement,
RR repetition, AA actor (the speaker; odd = male, even = female).  Only audio-only speech
files (MM 03, VV 01) are taken.  Utterance ids become `<actor>-<name>`, e.g.
`actor12-03-01-05-02-01-02-12`.  Writes wav.scp, utt2spk, spk2utt, utt2emo, utt2gender,
spk2gender, emotions.txt and, with `--folds 6`, utt2fold: 6 folds of 4
consecutive actors (1-4, 5-8, ...; speaker-disjoint, half of each gender).  The default
protocol, leave-one-speaker-out, needs no fold file.  Byte-identical files (one pair in
Actor_07 in the public release) are reported and only the first is kept.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from emotion2vec.corpora import common as pc
from emotion2vec.errors import E2VError

CORPUS = "RAVDESS"
NAME_RE = re.compile(r"^(\d\d)-(\d\d)-(0[1-8])-(0[12])-(0[12])-(0[12])-(\d\d)\.(wav|flac)$")
EMOTIONS = {"01": "neu", "02": "cal", "03": "hap", "04": "sad", "05": "ang", "06": "fea",
            "07": "dis", "08": "sur"}
PUBLISHED_CLASSES = {"neu": 96, "cal": 192, "hap": 192, "sad": 192, "ang": 192, "fea": 192,
                     "dis": 192, "sur": 192}
PUBLISHED_FILES = 1440


def parse_args(argv):
    p = pc.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--classes", required=True, help="class inventory, e.g. conf/emotions.txt")
    p.add_argument("--folds", choices=("speaker", "6"), default="speaker",
                   help="speaker: leave-one-speaker-out (no fold file); 6: utt2fold, 6 folds "
                        "of 4 consecutive actors")
    p.add_argument("--intensity", choices=("all", "normal", "strong"), default="all",
                   help="keep every file, or only normal / strong intensity (neutral has only "
                        "normal)")
    p.add_argument("corpus_dir", help="the folder holding Actor_01 .. Actor_24/")
    p.add_argument("data_dir", help="output data dir")
    return p.parse_args(argv)


def find_files(root: Path) -> List[Tuple[Path, re.Match]]:
    actors = sorted(d for d in root.glob("Actor_*") if d.is_dir())
    if not actors:
        raise E2VError(f"{root}: not a RAVDESS folder: it must contain Actor_01 .. Actor_24/ "
                       "(set RAVDESS in db.sh or pass --corpus-dir)")
    out = []
    for d in actors:
        for f in sorted(d.iterdir()):
            if f.name.startswith(".") or f.suffix.lower() not in (".wav", ".flac"):
                continue
            m = NAME_RE.match(f.name)
            if not m:
                raise E2VError(f"{f}: name does not follow MM-VV-EE-II-SS-RR-AA.wav")
            if d.name != f"Actor_{m[7]}":
                raise E2VError(f"{f}: actor {m[7]} of the name is not its folder {d.name}")
            if m[1] == "03" and m[2] == "01":  # audio-only speech (not song, not video)
                out.append((f, m))
    return out


def duplicates(files: Sequence[Path]) -> Dict[Path, Path]:
    """Byte-identical files: later copy -> the first one (compared by SHA-256)."""
    seen: Dict[Tuple[int, str], Path] = {}
    dup = {}
    for f in files:
        key = (f.stat().st_size, hashlib.sha256(f.read_bytes()).hexdigest())
        if key in seen:
            dup[f] = seen[key]
        else:
            seen[key] = f
    return dup


def main(argv: Optional[Sequence[str]] = None) -> int:
    a = parse_args(argv)
    root = Path(a.corpus_dir).resolve()
    classes = pc.load_classes(a.classes)
    unknown = [c for c in classes if c not in EMOTIONS.values()]
    if unknown:
        raise E2VError(f"{a.classes}: class '{unknown[0]}' is not a RAVDESS label "
                       f"(known: {' '.join(EMOTIONS.values())})")
    files = find_files(root)
    dup = duplicates([f for f, _ in files])
    for f, first in dup.items():
        pc.warn(f"{f} is byte-identical to {first}: only the first is kept")
    maps: Dict[str, Dict[str, str]] = {n: {} for n in ("wav.scp", "utt2spk", "utt2emo",
                                                        "utt2fold")}
    dropped: Counter = Counter()
    for f, m in files:
        label, intensity, actor = EMOTIONS[m[3]], m[4], int(m[7])
        if f in dup or label not in classes or (
                a.intensity != "all" and intensity != ("01" if a.intensity == "normal" else "02")):
            dropped["duplicate" if f in dup else f"class {label}" if label not in classes
                    else "intensity"] += 1
            continue
        spk = f"actor{actor:02d}"
        utt = f"{spk}-{f.stem}"
        for name, value in (("wav.scp", str(f)), ("utt2spk", spk), ("utt2emo", label),
                            ("utt2fold", str((actor - 1) // 4 + 1))):
            maps[name][utt] = value
    print(f"{CORPUS}: {len(files)} speech files; left out: "
          f"{' '.join(f'{k} {v}' for k, v in sorted(dropped.items())) or 'none'}; "
          f"kept {len(maps['utt2emo'])}")
    pc.check_total(CORPUS, "speech files", len(files), PUBLISHED_FILES, a.strict)
    full = set(classes) == set(EMOTIONS.values()) and a.intensity == "all"
    pc.report_classes_and_speakers(CORPUS, maps["utt2emo"], maps["utt2spk"],
                                   PUBLISHED_CLASSES if full and not dup else None, None, a.strict)
    spk2gender = {f"actor{n:02d}": "m" if n % 2 else "f" for n in range(1, 25)}
    extra = {"utt2fold": maps["utt2fold"]} if a.folds == "6" else None
    pc.write_data_dir(a.data_dir, wav_scp=maps["wav.scp"], utt2spk=maps["utt2spk"],
                      utt2emo=maps["utt2emo"], spk2gender=spk2gender, classes=classes,
                      extra=extra)
    print(f"{CORPUS}: wrote {a.data_dir} ({len(maps['utt2emo'])} utterances, "
          f"{len(set(maps['utt2spk'].values()))} speakers)")
    return 0


if __name__ == "__main__":
    pc.run(main, "corpora.ravdess")
