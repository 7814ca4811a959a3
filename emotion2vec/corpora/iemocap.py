"""IEMOCAP (IEMOCAP_full_release/) -> Kaldi data dir.

Labels come from `SessionN/dialog/EmoEvaluation/<dialog>.txt` (regular files only: the
evaluator sub-folders and AppleDouble `._*` copies are skipped); the label line is
`[start - end]<TAB>utt<TAB>label<TAB>[val, act, dom]`.  The speaker is `Ses0N` + the first
letter of the LAST `_` field of the utterance id (the letter after `Ses0N` only says who wore
the markers).  Utterance ids become `<speaker>-<original id>`, e.g. `Ses01M-Ses01F_impro01_M013`.

Writes wav.scp (sentence wavs, or dialog wavs + segments with `--audio dialog`), utt2spk,
spk2utt, utt2emo, utt2gender, spk2gender, utt2session (Ses01..Ses05, for leave-one-session-out),
utt2avd ("arousal valence dominance" from the same lines), emotions.txt.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence

from emotion2vec.corpora import common as pc
from emotion2vec.errors import E2VError

CORPUS = "IEMOCAP"
# Every code that appears in the label lines; anything else is an error (a damaged file).
LABEL_CODES = ("neu", "hap", "exc", "sad", "ang", "fru", "sur", "fea", "dis", "oth", "xxx")
UTT_RE = re.compile(r"^Ses0([1-5])[FM]_(.+)_([FM])(\d{3})$")
SPAN_RE = re.compile(r"^\[\s*(\d+(?:\.\d*)?)\s*-\s*(\d+(?:\.\d*)?)\s*\]$")
AVD_RE = re.compile(r"^\[\s*([-\d.]+)\s*,\s*([-\d.]+)\s*,\s*([-\d.]+)\s*\]$")

# Published counts (corpora.md) of the standard 4-class set (neu hap+exc ang sad).
FOUR = ("ang", "hap", "neu", "sad")
PUBLISHED_CLASSES = {"neu": 1708, "hap": 1636, "ang": 1103, "sad": 1084}
PUBLISHED_SESSIONS = {"Ses01": 1085, "Ses02": 1023, "Ses03": 1151, "Ses04": 1031, "Ses05": 1241}
PUBLISHED_SPEAKERS = {"Ses01F": 528, "Ses01M": 557, "Ses02F": 481, "Ses02M": 542,
                      "Ses03F": 522, "Ses03M": 629, "Ses04F": 528, "Ses04M": 503,
                      "Ses05F": 590, "Ses05M": 651}
# Published totals of the variants: (subset, exc merged into hap) -> utterances.
PUBLISHED_TOTALS = {("all", True): 5531, ("improvised", True): 2943,
                    ("improvised", False): 2280, ("scripted", True): 2588}


class Line(NamedTuple):
    utt: str
    start: float
    end: float
    label: str
    val: str
    act: str
    dom: str
    session: int
    src: str


def speaker_of(utt: str) -> str:
    """`Ses01F_impro01_M013` -> `Ses01M` (session + first letter of the last field)."""
    m = UTT_RE.match(utt)
    if not m:
        raise E2VError(f"not an IEMOCAP utterance id: '{utt}'")
    return f"Ses0{m.group(1)}{m.group(3)}"


def dialog_of(utt: str) -> str:
    return utt.rsplit("_", 1)[0]


def label_files(session_dir: Path) -> List[Path]:
    d = session_dir / "dialog" / "EmoEvaluation"
    if not d.is_dir():
        raise E2VError(f"{d}: no such folder (is {session_dir.parent} an IEMOCAP_full_release?)")
    out = []
    for p in sorted(d.iterdir()):
        # Sub-folders (Categorical/, Attribute/, Self-evaluation/) hold per-evaluator files;
        # `._*` are AppleDouble copies of the real files.
        if p.name.startswith(".") or not p.is_file():
            continue
        if p.suffix != ".txt":
            pc.warn(f"{p}: not a .txt label file; skipped")
            continue
        out.append(p)
    if not out:
        raise E2VError(f"{d}: no label files (<dialog>.txt)")
    return out


def parse_label_file(path: Path, session: int) -> List[Line]:
    lines = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8", errors="strict").splitlines(), 1):
        if not raw.startswith("["):
            continue  # header, blank, per-evaluator votes (C-E1:, A-E1: ...)
        fields = [f.strip() for f in raw.rstrip("\r").split("\t")]
        where = f"{path}:{lineno}"
        if len(fields) != 4:
            raise E2VError(f"{where}: want 4 TAB-separated fields, got {len(fields)}: {raw!r}")
        span, utt, label, avd = fields
        m, a = SPAN_RE.match(span), AVD_RE.match(avd)
        if not m or not a:
            raise E2VError(f"{where}: malformed time span or [val, act, dom]: {raw!r}")
        um = UTT_RE.match(utt)
        if not um:
            raise E2VError(f"{where}: malformed utterance id '{utt}'")
        if int(um.group(1)) != session:
            raise E2VError(f"{where}: utterance '{utt}' found in Session{session}")
        if label not in LABEL_CODES:
            raise E2VError(f"{where}: unknown label '{label}' for '{utt}' "
                           f"(known: {' '.join(LABEL_CODES)})")
        start, end = float(m.group(1)), float(m.group(2))
        if not end > start:
            raise E2VError(f"{where}: empty time span for '{utt}'")
        lines.append(Line(utt, start, end, label, a.group(1), a.group(2), a.group(3),
                          session, where))
    return lines


def parse_args(argv: Optional[Sequence[str]]):
    p = pc.base_parser(__doc__.split("\n\n")[0])
    p.add_argument("--classes", required=True,
                   help="class inventory (one label per line), e.g. conf/emotions.txt")
    p.add_argument("--label-map", default="",
                   help="'<from> <to>' lines applied first, e.g. 'exc hap'")
    p.add_argument("--subset", choices=("all", "improvised", "scripted"), default="all")
    p.add_argument("--audio", choices=("sentences", "dialog"), default="sentences",
                   help="sentence wavs, or dialog wavs + segments from the label time spans")
    p.add_argument("corpus_dir", help="IEMOCAP_full_release (holds Session1 .. Session5)")
    p.add_argument("data_dir", help="output data dir")
    return p.parse_args(argv)


def session_dirs(corpus_dir: str) -> "tuple[Path, List[Path]]":
    root = Path(corpus_dir).resolve()
    sessions = [root / f"Session{n}" for n in range(1, 6)]
    if not root.is_dir() or not all(s.is_dir() for s in sessions):
        raise E2VError(f"{corpus_dir}: not an IEMOCAP_full_release folder: it must contain "
                       "Session1 .. Session5/ (set IEMOCAP in db.sh or pass --corpus-dir)")
    return root, sessions


def in_subset(utt: str, subset: str) -> bool:
    kind = dialog_of(utt).split("_", 1)[1]
    return not (subset == "improvised" and not kind.startswith("impro") or
                subset == "scripted" and not kind.startswith("script"))


def select_lines(sessions: List[Path], subset: str, label_map: Dict[str, str],
                 classes: List[str]) -> List[Line]:
    """The label lines of the subset whose (mapped) label is a class; the rest are counted."""
    seen: Dict[str, str] = {}
    kept: List[Line] = []
    dropped: Counter = Counter()
    other_subset = 0
    for n, sdir in enumerate(sessions, 1):
        for f in label_files(sdir):
            for ln in parse_label_file(f, n):
                if ln.utt in seen:
                    raise E2VError(f"{ln.src}: utterance '{ln.utt}' also in {seen[ln.utt]}")
                seen[ln.utt] = ln.src
                if not in_subset(ln.utt, subset):
                    other_subset += 1
                    continue
                label = label_map.get(ln.label, ln.label)
                if label not in classes:
                    dropped[ln.label] += 1
                    continue
                kept.append(ln._replace(label=label))
    print(f"{CORPUS}: {len(seen)} labelled utterances; subset '{subset}' leaves "
          f"{len(seen) - other_subset}; outside the classes "
          f"({' '.join(f'{k} {v}' for k, v in sorted(dropped.items())) or 'none'}); "
          f"kept {len(kept)}")
    return kept


class Maps(NamedTuple):
    """The data dir's utterance maps (segments empty with sentence wavs)."""
    wav_scp: Dict[str, str]
    segments: Dict[str, str]
    utt2spk: Dict[str, str]
    utt2emo: Dict[str, str]
    utt2session: Dict[str, str]
    utt2avd: Dict[str, str]
    spk2gender: Dict[str, str]


def build_maps(kept: List[Line], root: Path, audio: str) -> Maps:
    m = Maps({}, {}, {}, {}, {}, {}, {})
    for ln in kept:
        spk = speaker_of(ln.utt)
        utt = f"{spk}-{ln.utt}"
        sdir = root / f"Session{ln.session}"
        dialog = dialog_of(ln.utt)
        if audio == "sentences":
            wav = sdir / "sentences" / "wav" / dialog / f"{ln.utt}.wav"
            if not wav.is_file():
                raise E2VError(f"{ln.src}: no audio for '{ln.utt}': {wav} is missing")
            m.wav_scp[utt] = str(wav)
        else:
            wav = sdir / "dialog" / "wav" / f"{dialog}.wav"
            if not wav.is_file():
                raise E2VError(f"{ln.src}: no dialog audio for '{ln.utt}': {wav} is missing")
            m.wav_scp[dialog] = str(wav)
            m.segments[utt] = f"{dialog} {ln.start:.4f} {ln.end:.4f}"
        m.utt2spk[utt] = spk
        m.utt2emo[utt] = ln.label
        m.utt2session[utt] = f"Ses0{ln.session}"
        m.utt2avd[utt] = f"{ln.act} {ln.val} {ln.dom}"  # file order is [val, act, dom]
        m.spk2gender[spk] = spk[-1].lower()
    return m


def compare_published(m: Maps, classes: List[str], label_map: Dict[str, str], subset: str,
                      strict: bool) -> None:
    """Counts vs the published ones, where this class set / subset has any."""
    standard = set(classes) == set(FOUR) and set(label_map.items()) <= {("exc", "hap")}
    merged = label_map.get("exc") == "hap"
    full = standard and merged and subset == "all"
    pc.report_classes_and_speakers(CORPUS, m.utt2emo, m.utt2spk,
                                   PUBLISHED_CLASSES if full else None,
                                   PUBLISHED_SPEAKERS if full else None, strict)
    pc.check_counts(CORPUS, "utterances per session", Counter(m.utt2session.values()),
                    PUBLISHED_SESSIONS if full else None, strict)
    total = PUBLISHED_TOTALS.get((subset, merged)) if standard else None
    if total is not None:
        pc.check_total(CORPUS, "utterances", len(m.utt2emo), total, strict)
    else:
        print(f"{CORPUS}: no published counts for this class set / subset; none compared")


def main(argv: Optional[Sequence[str]] = None) -> int:
    a = parse_args(argv)
    root, sessions = session_dirs(a.corpus_dir)
    classes = pc.load_classes(a.classes)
    label_map = pc.read_label_map(a.label_map)
    kept = select_lines(sessions, a.subset, label_map, classes)
    m = build_maps(kept, root, a.audio)
    compare_published(m, classes, label_map, a.subset, a.strict)
    pc.write_data_dir(a.data_dir, wav_scp=m.wav_scp, segments=m.segments or None,
                      utt2spk=m.utt2spk, utt2emo=m.utt2emo, spk2gender=m.spk2gender,
                      classes=classes,
                      extra={"utt2session": m.utt2session, "utt2avd": m.utt2avd})
    print(f"{CORPUS}: wrote {a.data_dir} ({len(m.utt2emo)} utterances, "
          f"{len(set(m.utt2spk.values()))} speakers)")
    return 0


if __name__ == "__main__":
    pc.run(main, "corpora.iemocap")
