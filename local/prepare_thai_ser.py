#!/usr/bin/env python3
"""THAI SER (VISTEC release v1) -> Kaldi data dirs (studio recordings; Zoom as a second dir).

Audio files are found by name anywhere under the corpus folder (unzipped layouts differ):
`s001_con_actor002_impro2_32.flac` = recording (sNNN studio / zNNN Zoom), mic (con, clip; Zoom:
mic), actor, turn, index.  Hard labels are recomputed from the votes in `emotion_label.json`
(`assigned_emo` is what the actor was asked to play, not ground truth): each annotator's votes
are normalised to sum 1 (None votes ignored), summed over annotators; an utterance is kept when
the top share is >= the agreement threshold (0.71) and unique (ties are dropped).
Utterance ids are `<actor>-<name>`; utt2session holds the studio (s001 ...);
cv/fold0..fold7/{train,valid,test} are the 8 studio folds (fold k tests studios 76-10k..80-10k,
validates on 71-10k..75-10k).  The 44.1 kHz FLAC is resampled to 16 kHz by a sox pipe.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import prep_common as pc  # noqa: E402
from emotion2vec.errors import E2VError  # noqa: E402

CORPUS = "THAI SER"
NAME_RE = re.compile(r"^([sz])(\d{3})_(con|clip|mic)_(actor\d+)_((?:impro|script)\d+)_(\d+)\.flac$")
VOTES = {"neutral": "neu", "angry": "ang", "happy": "hap", "sad": "sad", "frustrated": "fru",
         "other": "oth"}
PUBLISHED_UTTERANCES = 27854
PUBLISHED_ACTORS = 200
NUM_FOLDS = 8


def hard_label(entries, where: str, threshold: float) -> Tuple[Optional[str], str]:
    """(label or None, reason) from the annotators' votes of one file."""
    if not isinstance(entries, list):
        entries = [entries]
    shares: Dict[str, float] = defaultdict(float)
    annotators = 0
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("annotated"), list):
            raise E2VError(f"{where}: no 'annotated' vote lists")
        for votes in entry["annotated"]:
            votes = [v for v in (votes if isinstance(votes, list) else [votes]) if v is not None]
            if not votes:
                continue  # this annotator gave no usable vote
            annotators += 1
            for v in votes:
                code = VOTES.get(str(v).strip().lower())
                if code is None:
                    raise E2VError(f"{where}: unknown vote {v!r} (known: {', '.join(VOTES)})")
                shares[code] += 1.0 / len(votes)
    if not annotators:
        return None, "no votes"
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    top, top_share = ranked[0][0], ranked[0][1] / annotators
    if len(ranked) > 1 and abs(ranked[1][1] - ranked[0][1]) < 1e-9:
        return None, "tie"
    if top_share < threshold - 1e-9:
        return None, "low agreement"
    return top, "ok"


def read_genders(path: Path) -> Dict[str, str]:
    if not path.is_file():
        raise E2VError(f"{path}: no such file (the release's actor_demography.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (ValueError, KeyError, TypeError) as e:
        raise E2VError(f"{path}: want {{\"data\": [{{\"Actor's ID\", \"Sex\", \"Age\"}}]}} ({e})")
    out = {}
    for i, rec in enumerate(data):
        try:
            aid, sex = str(rec["Actor's ID"]).strip(), str(rec["Sex"]).strip().lower()
        except (KeyError, TypeError):
            raise E2VError(f"{path}: record {i}: no \"Actor's ID\" / \"Sex\"") from None
        aid = f"actor{int(aid):03d}" if aid.isdigit() else aid.lower()
        if sex not in ("m", "f", "male", "female"):
            raise E2VError(f"{path}: record {i}: unknown Sex {rec['Sex']!r} for {aid}")
        out[aid] = sex[0]
    return out


def fold_studios(k: int) -> Tuple[List[int], List[int]]:
    """(test studios, validation studios) of fold k: fold 0 tests 76-80, validates on 71-75."""
    top = 80 - 10 * k
    return list(range(top - 4, top + 1)), list(range(top - 9, top - 4))


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = pc.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--classes", required=True, help="class inventory, e.g. conf/emotions.txt")
    p.add_argument("--mic", choices=("con", "clip"), default="con",
                   help="studio microphone: condenser or clip-on")
    p.add_argument("--agreement", type=float, default=0.71,
                   help="minimum share of the top emotion among the annotators' votes")
    p.add_argument("--zoom-data-dir", default=None,
                   help="data dir for the Zoom recordings (default <data_dir>_zoom; '' = none)")
    p.add_argument("--zoom-test-dir", default=None,
                   help="data dir with the studio AND Zoom utterances whose cv/fold<k> lists train "
                        "and validate on studio fold k and test on every Zoom utterance (the extra "
                        "test condition; default <data_dir>_zoomtest; '' = none)")
    p.add_argument("--resample", choices=("sox", "none"), default="sox",
                   help="sox: wav.scp pipes resample to 16 kHz; none: plain FLAC paths")
    p.add_argument("corpus_dir", help="folder with emotion_label.json, actor_demography.json "
                   "and the unzipped studio*/zoom* archives")
    p.add_argument("data_dir", help="output data dir (studio recordings)")
    a = p.parse_args(argv)

    root = Path(a.corpus_dir).resolve()
    labels_path = root / "emotion_label.json"
    if not labels_path.is_file():
        raise E2VError(f"{a.corpus_dir}: not a THAI SER folder: it must contain emotion_label.json, "
                       "actor_demography.json and the unzipped studio*/zoom* folders "
                       "(set THAI_SER in db.sh or pass --corpus-dir)")
    classes = pc.load_classes(a.classes)
    unknown = [c for c in classes if c not in VOTES.values()]
    if unknown:
        raise E2VError(f"{a.classes}: class '{unknown[0]}' is not a THAI SER label "
                       f"(known: {' '.join(VOTES.values())})")
    try:
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise E2VError(f"{labels_path}: not valid JSON ({e})") from None
    genders = read_genders(root / "actor_demography.json")

    audio: Dict[str, Path] = {}
    for f in sorted(root.rglob("*.flac")):
        if f.name.startswith("."):
            continue
        if f.name in audio:
            raise E2VError(f"{f.name} found twice: {audio[f.name]} and {f}")
        audio[f.name] = f
    if not audio:
        raise E2VError(f"{root}: no .flac files (unzip the studio*/zoom* archives there)")

    outcome: Counter = Counter()
    studio: Dict[str, Dict[str, str]] = defaultdict(dict)
    zoom: Dict[str, Dict[str, str]] = defaultdict(dict)
    recordings, actors = set(), set()
    missing: List[str] = []
    for name in sorted(labels):
        m = NAME_RE.match(name)
        if not m:
            raise E2VError(f"{labels_path}: key '{name}' is not a THAI SER file name "
                           "(like s001_con_actor002_impro2_32.flac)")
        kind, num, mic, actor = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        recordings.add(f"{kind}{num:03d}")
        actors.add(actor)
        if kind == "s" and mic != a.mic:
            continue
        label, why = hard_label(labels[name], f"{labels_path}: '{name}'", a.agreement)
        if label is None or label not in classes:
            outcome[why if label is None else f"class {label}"] += 1
            continue
        if name not in audio:
            missing.append(name)
            continue
        outcome["kept"] += 1
        utt = f"{actor}-{name[:-len('.flac')]}"
        path = shlex.quote(str(audio[name]))
        entry = (f"sox {path} -t wav -r 16000 -c 1 -b 16 - |" if a.resample == "sox"
                 else str(audio[name]))
        target = studio if kind == "s" else zoom
        target["wav.scp"][utt] = entry
        target["utt2spk"][utt] = actor
        target["utt2emo"][utt] = label
        target["utt2session"][utt] = f"{kind}{num:03d}"
    if missing:
        raise E2VError(f"{len(missing)} labelled file(s) have no audio under {root}, e.g. "
                       f"{missing[0]} (unzip every studio*/zoom* archive there)")
    unlabelled = sorted(set(audio) - set(labels))
    if unlabelled:
        pc.warn(f"{len(unlabelled)} audio file(s) have no entry in emotion_label.json "
                f"(e.g. {unlabelled[0]}); not used")
    print(f"{CORPUS}: " + ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())))
    pc.check_total(CORPUS, "utterances in emotion_label.json", len(labels),
                   PUBLISHED_UTTERANCES, a.strict)
    pc.check_total(CORPUS, "actors", len(actors), PUBLISHED_ACTORS, a.strict)
    pc.check_total(CORPUS, "studio recordings", sum(r[0] == "s" for r in recordings), 80, a.strict)
    pc.check_total(CORPUS, "zoom recordings", sum(r[0] == "z" for r in recordings), 20, a.strict)
    pc.report_classes_and_speakers(CORPUS, studio["utt2emo"], studio["utt2spk"], None, None,
                                   a.strict)

    cv = {}
    for k in range(NUM_FOLDS):
        test, valid = fold_studios(k)
        parts: Dict[str, List[str]] = {"train": [], "valid": [], "test": []}
        for utt, sess in studio["utt2session"].items():
            n = int(sess[1:])
            parts["test" if n in test else "valid" if n in valid else "train"].append(utt)
        cv[f"fold{k}"] = parts
    info = "".join(f"fold{k}: test studios {fold_studios(k)[0][0]}-{fold_studios(k)[0][-1]}, "
                   f"valid {fold_studios(k)[1][0]}-{fold_studios(k)[1][-1]}, train the rest\n"
                   for k in range(NUM_FOLDS))
    pc.write_data_dir(a.data_dir, wav_scp=studio["wav.scp"], utt2spk=studio["utt2spk"],
                      utt2emo=studio["utt2emo"], spk2gender=genders, classes=classes,
                      extra={"utt2session": studio["utt2session"]}, cv=cv, info=info)
    print(f"{CORPUS}: wrote {a.data_dir} ({len(studio['utt2emo'])} utterances)")
    zoom_dir = a.data_dir.rstrip("/") + "_zoom" if a.zoom_data_dir is None else a.zoom_data_dir
    if zoom_dir and zoom["utt2emo"]:
        pc.write_data_dir(zoom_dir, wav_scp=zoom["wav.scp"], utt2spk=zoom["utt2spk"],
                          utt2emo=zoom["utt2emo"], spk2gender=genders, classes=classes,
                          extra={"utt2session": zoom["utt2session"]})
        print(f"{CORPUS}: wrote {zoom_dir} ({len(zoom['utt2emo'])} Zoom utterances)")
    elif zoom_dir:
        pc.warn(f"{CORPUS}: no Zoom utterances kept; {zoom_dir} not written")
    zt_dir = (a.data_dir.rstrip("/") + "_zoomtest" if a.zoom_test_dir is None
              else a.zoom_test_dir)
    if zt_dir and zoom["utt2emo"]:
        both = {f: {**studio[f], **zoom[f]} for f in studio}
        zt_cv = {fold: {"train": parts["train"], "valid": parts["valid"],
                        "test": list(zoom["utt2emo"])} for fold, parts in cv.items()}
        pc.write_data_dir(zt_dir, wav_scp=both["wav.scp"], utt2spk=both["utt2spk"],
                          utt2emo=both["utt2emo"], spk2gender=genders, classes=classes,
                          extra={"utt2session": both["utt2session"]}, cv=zt_cv,
                          info="fold<k>: train and validate on studio fold k, test on every "
                               "Zoom utterance\n")
        print(f"{CORPUS}: wrote {zt_dir} (studio folds tested on Zoom)")
    return 0


if __name__ == "__main__":
    pc.run(main, "prepare_thai_ser.py")
