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
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from emotion2vec.corpora import common as pc
from emotion2vec.errors import E2VError

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


def parse_args(argv: Optional[Sequence[str]]):
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
    return p.parse_args(argv)


def labels_file(corpus_dir: str) -> Path:
    path = Path(corpus_dir).resolve() / "emotion_label.json"
    if not path.is_file():
        raise E2VError(f"{corpus_dir}: not a THAI SER folder: it must contain emotion_label.json, "
                       "actor_demography.json and the unzipped studio*/zoom* folders "
                       "(set THAI_SER in db.sh or pass --corpus-dir)")
    return path


def read_thai_classes(path: str) -> List[str]:
    classes = pc.load_classes(path)
    unknown = [c for c in classes if c not in VOTES.values()]
    if unknown:
        raise E2VError(f"{path}: class '{unknown[0]}' is not a THAI SER label "
                       f"(known: {' '.join(VOTES.values())})")
    return classes


def read_votes(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise E2VError(f"{path}: not valid JSON ({e})") from None


def find_audio(root: Path) -> Dict[str, Path]:
    """File name -> path of every FLAC under `root` (a name found twice is an error)."""
    audio: Dict[str, Path] = {}
    for f in sorted(root.rglob("*.flac")):
        if f.name.startswith("."):
            continue
        if f.name in audio:
            raise E2VError(f"{f.name} found twice: {audio[f.name]} and {f}")
        audio[f.name] = f
    if not audio:
        raise E2VError(f"{root}: no .flac files (unzip the studio*/zoom* archives there)")
    return audio


class Collected(NamedTuple):
    """The kept utterances (data dir file -> map, studio and Zoom apart) and what was seen."""
    studio: Dict[str, Dict[str, str]]
    zoom: Dict[str, Dict[str, str]]
    outcome: Counter  # kept / why not, per labelled file of the chosen mic
    recordings: set  # every recording (s001 ... z020) named in emotion_label.json
    actors: set


def collect(labels: dict, labels_path: Path, audio: Dict[str, Path], a,
            classes: List[str]) -> Collected:
    c = Collected(defaultdict(dict), defaultdict(dict), Counter(), set(), set())
    missing: List[str] = []
    for name in sorted(labels):
        m = NAME_RE.match(name)
        if not m:
            raise E2VError(f"{labels_path}: key '{name}' is not a THAI SER file name "
                           "(like s001_con_actor002_impro2_32.flac)")
        kind, num, mic, actor = m.group(1), int(m.group(2)), m.group(3), m.group(4)
        c.recordings.add(f"{kind}{num:03d}")
        c.actors.add(actor)
        if kind == "s" and mic != a.mic:
            continue
        label, why = hard_label(labels[name], f"{labels_path}: '{name}'", a.agreement)
        if label is None or label not in classes:
            c.outcome[why if label is None else f"class {label}"] += 1
            continue
        if name not in audio:
            missing.append(name)
            continue
        c.outcome["kept"] += 1
        utt = f"{actor}-{name[:-len('.flac')]}"
        path = shlex.quote(str(audio[name]))
        entry = (f"sox {path} -t wav -r 16000 -c 1 -b 16 - |" if a.resample == "sox"
                 else str(audio[name]))
        target = c.studio if kind == "s" else c.zoom
        target["wav.scp"][utt] = entry
        target["utt2spk"][utt] = actor
        target["utt2emo"][utt] = label
        target["utt2session"][utt] = f"{kind}{num:03d}"
    if missing:
        raise E2VError(f"{len(missing)} labelled file(s) have no audio under "
                       f"{labels_path.parent}, e.g. {missing[0]} (unzip every studio*/zoom* "
                       "archive there)")
    return c


def report(c: Collected, labels: dict, audio: Dict[str, Path], strict: bool) -> None:
    unlabelled = sorted(set(audio) - set(labels))
    if unlabelled:
        pc.warn(f"{len(unlabelled)} audio file(s) have no entry in emotion_label.json "
                f"(e.g. {unlabelled[0]}); not used")
    print(f"{CORPUS}: " + ", ".join(f"{k} {v}" for k, v in sorted(c.outcome.items())))
    pc.check_total(CORPUS, "utterances in emotion_label.json", len(labels),
                   PUBLISHED_UTTERANCES, strict)
    pc.check_total(CORPUS, "actors", len(c.actors), PUBLISHED_ACTORS, strict)
    pc.check_total(CORPUS, "studio recordings", sum(r[0] == "s" for r in c.recordings), 80,
                   strict)
    pc.check_total(CORPUS, "zoom recordings", sum(r[0] == "z" for r in c.recordings), 20, strict)
    pc.report_classes_and_speakers(CORPUS, c.studio["utt2emo"], c.studio["utt2spk"], None, None,
                                   strict)


def studio_folds(utt2session: Dict[str, str]) -> "tuple[Dict[str, Dict[str, List[str]]], str]":
    """(cv folds, cv_info text) of the 8 studio folds."""
    cv = {}
    for k in range(NUM_FOLDS):
        test, valid = fold_studios(k)
        parts: Dict[str, List[str]] = {"train": [], "valid": [], "test": []}
        for utt, sess in utt2session.items():
            n = int(sess[1:])
            parts["test" if n in test else "valid" if n in valid else "train"].append(utt)
        cv[f"fold{k}"] = parts
    info = "".join(f"fold{k}: test studios {fold_studios(k)[0][0]}-{fold_studios(k)[0][-1]}, "
                   f"valid {fold_studios(k)[1][0]}-{fold_studios(k)[1][-1]}, train the rest\n"
                   for k in range(NUM_FOLDS))
    return cv, info


def write_dir(out: str, maps: Dict[str, Dict[str, str]], genders: Dict[str, str],
              classes: List[str], **kw) -> None:
    pc.write_data_dir(out, wav_scp=maps["wav.scp"], utt2spk=maps["utt2spk"],
                      utt2emo=maps["utt2emo"], spk2gender=genders, classes=classes,
                      extra={"utt2session": maps["utt2session"]}, **kw)


def write_zoom_dirs(a, c: Collected, cv, genders: Dict[str, str], classes: List[str]) -> None:
    """The Zoom data dir and the studio-folds-tested-on-Zoom one (each unless set to '')."""
    studio, zoom = c.studio, c.zoom
    zoom_dir = a.data_dir.rstrip("/") + "_zoom" if a.zoom_data_dir is None else a.zoom_data_dir
    if zoom_dir and zoom["utt2emo"]:
        write_dir(zoom_dir, zoom, genders, classes)
        print(f"{CORPUS}: wrote {zoom_dir} ({len(zoom['utt2emo'])} Zoom utterances)")
    elif zoom_dir:
        pc.warn(f"{CORPUS}: no Zoom utterances kept; {zoom_dir} not written")
    zt_dir = (a.data_dir.rstrip("/") + "_zoomtest" if a.zoom_test_dir is None
              else a.zoom_test_dir)
    if zt_dir and zoom["utt2emo"]:
        both = {f: {**studio[f], **zoom[f]} for f in studio}
        zt_cv = {fold: {"train": parts["train"], "valid": parts["valid"],
                        "test": list(zoom["utt2emo"])} for fold, parts in cv.items()}
        write_dir(zt_dir, both, genders, classes, cv=zt_cv,
                  info="fold<k>: train and validate on studio fold k, test on every "
                       "Zoom utterance\n")
        print(f"{CORPUS}: wrote {zt_dir} (studio folds tested on Zoom)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    a = parse_args(argv)
    labels_path = labels_file(a.corpus_dir)
    root = labels_path.parent
    classes = read_thai_classes(a.classes)
    labels = read_votes(labels_path)
    genders = read_genders(root / "actor_demography.json")
    audio = find_audio(root)
    c = collect(labels, labels_path, audio, a, classes)
    report(c, labels, audio, a.strict)
    cv, info = studio_folds(c.studio["utt2session"])
    write_dir(a.data_dir, c.studio, genders, classes, cv=cv, info=info)
    print(f"{CORPUS}: wrote {a.data_dir} ({len(c.studio['utt2emo'])} utterances)")
    write_zoom_dirs(a, c, cv, genders, classes)
    return 0


if __name__ == "__main__":
    pc.run(main, "corpora.thai_ser")
