"""EmoBox (a checkout of the benchmark's metadata + its downloads/ audio) -> Kaldi data dir.

Reads `data/<ds>/<ds>.jsonl` (one record per utterance: key, wav, emo, optional
start_time/end_time), `data/<ds>/label_map.json` (raw label -> benchmark label) and the folds
`data/<ds>/fold_<k>/<ds>_{train,test[,valid]}_fold_<k>.jsonl`; the benchmark's own code is not
used.  Speakers come from `data/<ds>/data.seg.wrd.stm` (third column) when shipped; otherwise
each utterance is its own speaker (a warning says so).  Utterance ids are `<ds>-<spk>-<key>`
with speaker `<ds>-<spk>`, so the EmoBox key is the id without the `<speaker>-` prefix.

Label keys are normalised (case, known typos such as `boredem`) before mapping; a label the map
does not cover is an error.  Labels are written lowercase (e.g. `angry`).  Folds go to
cv/fold<k>/{train,valid,test}: the official valid set when shipped, else a seeded speaker-aware
split of the training fold (recorded in cv_info.txt).

`track2:<NAME>` as the dataset prepares a cross-corpus test set from
`data/track2/<NAME>_selected_balenced.jsonl` (sic) with audio under --audio-root.
"""

from __future__ import annotations

import json
import random
import re
import shlex
from collections import Counter, OrderedDict, defaultdict
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence

from emotion2vec.corpora import common as pc
from emotion2vec.errors import E2VError

CORPUS = "EmoBox"
# Known defects of shipped label maps / data labels, repaired on ingest (after lowercasing).
LABEL_FIXES = {"boredem": "boredom"}
# Published number of folds per dataset (others: 1).
FOLDS = {"cafe": 3, "casia": 4, "jl-corpus": 4, "jlcorpus": 4, "savee": 4, "emodb": 5,
         "esd": 5, "iemocap": 5, "polish": 5, "subesco": 5, "emovo": 6, "ravdess": 6}
TRACK2 = ("IEMOCAP", "MELD", "RAVDESS", "SAVEE")
TRACK2_CLASSES = ("angry", "happy", "neutral", "sad")


def norm_label(label: str) -> str:
    label = str(label).strip().lower()
    return LABEL_FIXES.get(label, label)


def read_jsonl(path: Path) -> List[dict]:
    if not path.is_file():
        raise E2VError(f"{path}: no such file")
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise E2VError(f"{path}:{lineno}: not JSON ({e})") from None
        if not isinstance(rec, dict):
            raise E2VError(f"{path}:{lineno}: not a JSON object")
        rec["_where"] = f"{path}:{lineno}"
        out.append(rec)
    return out


def read_label_map(path: Path) -> "OrderedDict[str, str]":
    """Raw label (normalised) -> benchmark label (lowercase), repairing the known defects."""
    if not path.is_file():
        raise E2VError(f"{path}: no such file")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=OrderedDict)
    except ValueError as e:
        raise E2VError(f"{path}: not valid JSON ({e})") from None
    out: "OrderedDict[str, str]" = OrderedDict()
    for key, value in raw.items():
        k, v = norm_label(key), norm_label(value)
        if k != key:
            print(f"{CORPUS}: {path}: label key '{key}' read as '{k}'")
        if k in out and out[k] != v:
            raise E2VError(f"{path}: '{key}' maps to '{value}' but '{k}' already maps to "
                           f"'{out[k]}'")
        out[k] = v
    return out


def read_speakers(stm: Path) -> Dict[str, str]:
    """key -> speaker from an STM file (`<key> <channel> <speaker> <start> <end> ...`)."""
    out = {}
    for lineno, line in enumerate(stm.read_text(encoding="utf-8").splitlines(), 1):
        f = line.split()
        if not f or line.startswith(";;"):
            continue
        if len(f) < 3:
            raise E2VError(f"{stm}:{lineno}: want '<key> <channel> <speaker> ...'")
        if f[0] in out and out[f[0]] != f[2]:
            raise E2VError(f"{stm}:{lineno}: '{f[0]}' has two speakers")
        out[f[0]] = f[2]
    return out


def wav_entry(path: Path, rate) -> str:
    if rate in (None, 16000, 16000.0):
        return str(path)
    return f"sox {shlex.quote(str(path))} -t wav -r 16000 -c 1 -b 16 - |"


def speaker_split(train: List[str], utt2spk: Dict[str, str], fraction: float,
                  rng: random.Random) -> "tuple[List[str], List[str], str]":
    """Hold out whole speakers (about `fraction` of the utterances) as validation."""
    by_spk: Dict[str, List[str]] = defaultdict(list)
    for u in train:
        by_spk[utt2spk[u]].append(u)
    speakers = sorted(by_spk, key=pc.c_sort_key)
    if len(speakers) >= 3 and len(speakers) < len(train):
        rng.shuffle(speakers)
        valid: List[str] = []
        held = []
        for s in speakers[:-1]:  # always leave at least one speaker for training
            if len(valid) >= fraction * len(train):
                break
            valid += by_spk[s]
            held.append(s)
        vs = set(valid)
        return [u for u in train if u not in vs], valid, f"speakers {' '.join(sorted(held))}"
    items = sorted(train, key=pc.c_sort_key)
    rng.shuffle(items)
    n = max(1, round(fraction * len(items))) if len(items) > 1 else 0
    vs = set(items[:n])
    return [u for u in train if u not in vs], sorted(vs), "random utterances (no speakers)"


def read_track2(root: Path, name: str, audio_root: Path):
    """(wav_scp, utt2spk, utt2emo) of a cross-corpus balanced test set."""
    if name not in TRACK2:
        raise E2VError(f"unknown track2 set '{name}' (known: {' '.join(TRACK2)})")
    path = root / "data" / "track2" / f"{name}_selected_balenced.jsonl"
    wav_scp, utt2spk, utt2emo = {}, {}, {}
    for rec in read_jsonl(path):
        try:
            rel, label, spk = rec["wav_filename"], norm_label(rec["label"]), str(rec["speaker"])
        except KeyError as e:
            raise E2VError(f"{rec['_where']}: no field {e}") from None
        if label not in TRACK2_CLASSES:
            raise E2VError(f"{rec['_where']}: label '{label}' not one of {TRACK2_CLASSES}")
        wav = audio_root / rel
        if not wav.is_file():
            raise E2VError(f"{rec['_where']}: no audio: {wav} is missing")
        spk = f"track2-{name.lower()}-{spk}"
        utt = f"{spk}-{Path(rel).stem}"
        if utt in utt2spk:
            raise E2VError(f"{rec['_where']}: '{rel}' listed twice")
        wav_scp[utt], utt2spk[utt], utt2emo[utt] = str(wav), spk, label
    return wav_scp, utt2spk, utt2emo


def prepare_track2(a, root: Path) -> int:
    name = a.dataset.split(":", 1)[1]
    wav_scp, utt2spk, utt2emo = read_track2(root, name, Path(a.audio_root or root).resolve())
    pc.check_counts(f"{CORPUS} track2 {name}", "utterances per class", Counter(utt2emo.values()),
                    {c: 60 for c in TRACK2_CLASSES}, a.strict)
    pc.write_data_dir(a.data_dir, wav_scp=wav_scp, utt2spk=utt2spk, utt2emo=utt2emo,
                      spk2gender=None, classes=list(TRACK2_CLASSES))
    print(f"{CORPUS}: wrote {a.data_dir} ({len(utt2emo)} utterances)")
    return 0


def parse_args(argv: Optional[Sequence[str]]):
    p = pc.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--audio-root", default="",
                   help="folder holding downloads/ (the jsonl 'wav' paths are relative to it); "
                        "default: the EmoBox checkout")
    p.add_argument("--classes", default="",
                   help="keep only these labels (default: every label of label_map.json)")
    p.add_argument("--valid-fraction", type=float, default=0.2,
                   help="share of a training fold held out for validation when no official "
                        "valid set is shipped")
    p.add_argument("--seed", type=int, default=42, help="seed of that validation split")
    p.add_argument("--cross-test", default="",
                   help="cross-corpus track: one data dir with <dataset> (limited to angry happy "
                        "neutral sad) as training data and this track2 set (IEMOCAP, MELD, "
                        "RAVDESS, SAVEE) as cv/fold1/test")
    p.add_argument("--track2-audio-root", default="",
                   help="folder holding the track2 set's wav_filename paths (default: "
                        "--audio-root)")
    p.add_argument("emobox_dir", help="EmoBox checkout (holds data/<dataset>/)")
    p.add_argument("dataset", help="dataset name as in data/ (e.g. iemocap, emodb), "
                   "or track2:<IEMOCAP|MELD|RAVDESS|SAVEE>")
    p.add_argument("data_dir", help="output data dir")
    return p.parse_args(argv)


def checkout_root(emobox_dir: str) -> Path:
    root = Path(emobox_dir).resolve()
    if not (root / "data").is_dir():
        raise E2VError(f"{emobox_dir}: not an EmoBox checkout: it must contain data/<dataset>/ "
                       "(set EMOBOX in db.sh or pass --corpus-dir)")
    return root


def dataset_dir(root: Path, ds: str) -> Path:
    ddir = root / "data" / ds
    if not ddir.is_dir():
        known = sorted(d.name for d in (root / "data").iterdir() if d.is_dir())
        raise E2VError(f"{ddir}: no such dataset (known: {' '.join(known)})")
    return ddir


def choose_classes(a, label_map: Dict[str, str]) -> List[str]:
    if a.classes:
        return pc.load_classes(a.classes)
    if a.cross_test:
        return list(TRACK2_CLASSES)
    return list(dict.fromkeys(label_map.values()))


def speakers_or_none(stm: Path) -> Optional[Dict[str, str]]:
    if stm.is_file():
        return read_speakers(stm)
    pc.warn(f"{stm}: not found; every utterance is its own speaker (speaker-aware "
            "splits become random utterance splits)")
    return None


class Dataset(NamedTuple):
    """One EmoBox dataset read into data dir maps (segments empty for whole-file records)."""
    key2utt: Dict[str, str]  # every record's key, kept or not (the folds name keys)
    wav_scp: Dict[str, str]
    segments: Dict[str, str]
    utt2spk: Dict[str, str]
    utt2emo: Dict[str, str]


def record_ids(rec: dict, ds: str, speakers: Optional[Dict[str, str]],
               stm: Path) -> "tuple[str, str]":
    """(utterance, speaker) of a record: `<ds>-<spk>-<key>`, or the key alone without an STM."""
    if speakers is None:
        return rec["key"], rec["key"]
    if rec["key"] not in speakers:
        raise E2VError(f"{rec['_where']}: '{rec['key']}' has no speaker in {stm}")
    spk = f"{ds}-{speakers[rec['key']]}"
    return f"{spk}-{rec['key']}", spk


def add_segment(d: Dataset, rec: dict, ds: str, utt: str, entry: str) -> None:
    """A record that is a time span of a longer file: the file goes to wav.scp once."""
    where, rel = rec["_where"], rec["wav"]
    rec_id = f"{ds}-" + re.sub(r"[^A-Za-z0-9_.-]", "_", str(Path(rel).with_suffix("")))
    if rec_id in d.wav_scp and d.wav_scp[rec_id] != entry:
        raise E2VError(f"{where}: recording id '{rec_id}' names two files")
    d.wav_scp[rec_id] = entry
    start = float(rec.get("start_time", 0.0))
    end = float(rec["end_time"]) if "end_time" in rec else start + float(rec["length"])
    if not end > start:
        raise E2VError(f"{where}: empty segment {start}..{end} for '{rec['key']}'")
    d.segments[utt] = f"{rec_id} {start:.3f} {end:.3f}"


def read_dataset(ds: str, ddir: Path, label_map: Dict[str, str], classes: List[str],
                 speakers: Optional[Dict[str, str]], stm: Path, audio_root: Path) -> Dataset:
    records = read_jsonl(ddir / f"{ds}.jsonl")
    has_times = any("start_time" in r for r in records)
    d = Dataset({}, {}, {}, {}, {})
    dropped: Counter = Counter()
    missing = []
    for rec in records:
        where = rec["_where"]
        try:
            key, rel, emo = rec["key"], rec["wav"], rec["emo"]
        except KeyError as e:
            raise E2VError(f"{where}: no field {e}") from None
        if key in d.key2utt:
            raise E2VError(f"{where}: key '{key}' listed twice")
        raw = norm_label(emo)
        if raw not in label_map:
            raise E2VError(f"{where}: label '{emo}' of '{key}' is not in {ddir / 'label_map.json'}"
                           f" (covers: {' '.join(label_map)})")
        label = label_map[raw]
        utt, spk = record_ids(rec, ds, speakers, stm)
        d.key2utt[key] = utt
        if label not in classes:
            dropped[label] += 1
            continue
        wav = audio_root / rel
        if not wav.is_file():
            missing.append(str(wav))
            continue
        entry = wav_entry(wav, rec.get("sample_rate"))
        if has_times:
            add_segment(d, rec, ds, utt, entry)
        else:
            d.wav_scp[utt] = entry
        d.utt2spk[utt], d.utt2emo[utt] = spk, label
    if missing:
        raise E2VError(f"{len(missing)} audio file(s) missing under {audio_root}, e.g. "
                       f"{missing[0]} (pass --audio-root: the folder that holds downloads/)")
    print(f"{CORPUS} {ds}: {len(records)} records; outside the classes "
          f"({' '.join(f'{k} {v}' for k, v in sorted(dropped.items())) or 'none'}); "
          f"kept {len(d.utt2emo)}")
    return d


def read_fold(fold_dir: Path, ds: str, d: Dataset) -> Dict[str, List[str]]:
    """part -> kept utterances of one fold_<k>/ (the parts it ships)."""
    k = fold_dir.name.split("_", 1)[1]
    parts = {}
    for part in ("train", "valid", "test"):
        f = fold_dir / f"{ds}_{part}_fold_{k}.jsonl"
        if not f.is_file():
            continue
        utts = []
        for rec in read_jsonl(f):
            if rec.get("key") not in d.key2utt:
                raise E2VError(f"{rec['_where']}: key {rec.get('key')!r} is not in {ds}.jsonl")
            if d.key2utt[rec["key"]] in d.utt2emo:  # outside --classes: dropped above
                utts.append(d.key2utt[rec["key"]])
        parts[part] = utts
    if "train" not in parts or "test" not in parts:
        raise E2VError(f"{fold_dir}: want {ds}_train_fold_{k}.jsonl and {ds}_test_fold_{k}.jsonl")
    return parts


def read_folds(a, ds: str, ddir: Path, d: Dataset):
    """(cv, cv_info text): the shipped folds, a seeded validation split where none is shipped."""
    cv, notes = {}, [f"EmoBox {ds} folds; validation: official when shipped, else seed "
                     f"{a.seed}, fraction {a.valid_fraction}, speaker-aware\n"]
    fold_dirs = sorted((f for f in ddir.glob("fold_*") if f.is_dir()),
                       key=lambda f: int(f.name.split("_")[1]) if f.name[5:].isdigit() else 0)
    for fold_dir in fold_dirs:
        k = fold_dir.name.split("_", 1)[1]
        parts = read_fold(fold_dir, ds, d)
        if "valid" in parts:
            notes.append(f"fold{k}: official valid set\n")
        else:
            rng = random.Random(a.seed + int(k) if k.isdigit() else a.seed)
            parts["train"], parts["valid"], how = speaker_split(parts["train"], d.utt2spk,
                                                                a.valid_fraction, rng)
            notes.append(f"fold{k}: valid = {how}\n")
        cv[f"fold{k}"] = parts
    if not cv:
        raise E2VError(f"{ddir}: no fold_<k>/ folders")
    return cv, "".join(notes)


def main(argv: Optional[Sequence[str]] = None) -> int:
    a = parse_args(argv)
    root = checkout_root(a.emobox_dir)
    if a.dataset.startswith("track2:"):
        return prepare_track2(a, root)
    ds = a.dataset
    ddir = dataset_dir(root, ds)
    audio_root = Path(a.audio_root or root).resolve()
    label_map = read_label_map(ddir / "label_map.json")
    classes = choose_classes(a, label_map)
    stm = ddir / "data.seg.wrd.stm"
    speakers = speakers_or_none(stm)
    d = read_dataset(ds, ddir, label_map, classes, speakers, stm, audio_root)
    pc.report_classes_and_speakers(f"{CORPUS} {ds}", d.utt2emo, d.utt2spk, None, None, a.strict)
    if a.cross_test:
        return write_cross_corpus(a, root, ds, classes, d.wav_scp, d.segments, d.utt2spk,
                                  d.utt2emo)
    cv, info = read_folds(a, ds, ddir, d)
    pc.check_total(f"{CORPUS} {ds}", "folds", len(cv), FOLDS.get(ds, 1), a.strict)
    pc.write_data_dir(a.data_dir, wav_scp=d.wav_scp, segments=d.segments or None,
                      utt2spk=d.utt2spk, utt2emo=d.utt2emo, spk2gender=None,
                      classes=classes, cv=cv, info=info)
    print(f"{CORPUS}: wrote {a.data_dir} ({len(d.utt2emo)} utterances, {len(cv)} folds)")
    return 0


def write_cross_corpus(a, root, ds, classes, wav_scp, segments, utt2spk, utt2emo) -> int:
    """Train on every kept utterance of `ds` (seeded speaker-aware validation), test on track2."""
    name = a.cross_test
    t_wav, t_spk, t_emo = read_track2(
        root, name, Path(a.track2_audio_root or a.audio_root or root).resolve())
    clash = set(t_spk) & set(utt2spk)
    if clash:
        raise E2VError(f"track2 {name} and {ds} share utterance ids, e.g. {sorted(clash)[0]}")
    bad = sorted(set(t_emo.values()) - set(classes))
    if bad:
        raise E2VError(f"track2 {name} labels {bad} are not in the classes {classes}")
    train, valid, how = speaker_split(sorted(utt2emo, key=pc.c_sort_key), utt2spk,
                                      a.valid_fraction, random.Random(a.seed))
    if segments:  # the test files become whole-recording segments
        import soundfile as sf
        for u, path in t_wav.items():
            info = sf.info(path)
            segments[u] = f"{u} 0 {info.frames / info.samplerate:.6f}"
    pc.write_data_dir(a.data_dir, wav_scp={**wav_scp, **t_wav}, segments=segments or None,
                      utt2spk={**utt2spk, **t_spk}, utt2emo={**utt2emo, **t_emo},
                      spk2gender=None, classes=classes,
                      cv={"fold1": {"train": train, "valid": valid, "test": list(t_emo)}},
                      info=f"cross-corpus: train on EmoBox {ds}, valid = {how} (seed {a.seed}, "
                           f"fraction {a.valid_fraction}), test on track2 {name}\n")
    print(f"{CORPUS}: wrote {a.data_dir} (train {len(train)}, valid {len(valid)} from {ds}; "
          f"test {len(t_emo)} from track2 {name})")
    return 0


if __name__ == "__main__":
    pc.run(main, "corpora.emobox")
