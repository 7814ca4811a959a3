#!/usr/bin/env python3
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
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
import prep_common as pc  # noqa: E402
from emotion2vec.errors import E2VError  # noqa: E402

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


def main(argv: Optional[Sequence[str]] = None) -> int:
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
    a = p.parse_args(argv)

    root = Path(a.corpus_dir).resolve()
    sessions = [root / f"Session{n}" for n in range(1, 6)]
    if not root.is_dir() or not all(s.is_dir() for s in sessions):
        raise E2VError(f"{a.corpus_dir}: not an IEMOCAP_full_release folder: it must contain "
                       "Session1 .. Session5/ (set IEMOCAP in db.sh or pass --corpus-dir)")
    classes = pc.load_classes(a.classes)
    label_map = pc.read_label_map(a.label_map)

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
                kind = dialog_of(ln.utt).split("_", 1)[1]
                if a.subset == "improvised" and not kind.startswith("impro") or \
                        a.subset == "scripted" and not kind.startswith("script"):
                    other_subset += 1
                    continue
                label = label_map.get(ln.label, ln.label)
                if label not in classes:
                    dropped[ln.label] += 1
                    continue
                kept.append(ln._replace(label=label))
    print(f"{CORPUS}: {len(seen)} labelled utterances; subset '{a.subset}' leaves "
          f"{len(seen) - other_subset}; outside the classes "
          f"({' '.join(f'{k} {v}' for k, v in sorted(dropped.items())) or 'none'}); "
          f"kept {len(kept)}")

    wav_scp, segments, utt2spk, utt2emo, utt2session, utt2avd = {}, {}, {}, {}, {}, {}
    spk2gender = {}
    for ln in kept:
        spk = speaker_of(ln.utt)
        utt = f"{spk}-{ln.utt}"
        sdir = root / f"Session{ln.session}"
        dialog = dialog_of(ln.utt)
        if a.audio == "sentences":
            wav = sdir / "sentences" / "wav" / dialog / f"{ln.utt}.wav"
            if not wav.is_file():
                raise E2VError(f"{ln.src}: no audio for '{ln.utt}': {wav} is missing")
            wav_scp[utt] = str(wav)
        else:
            wav = sdir / "dialog" / "wav" / f"{dialog}.wav"
            if not wav.is_file():
                raise E2VError(f"{ln.src}: no dialog audio for '{ln.utt}': {wav} is missing")
            wav_scp[dialog] = str(wav)
            segments[utt] = f"{dialog} {ln.start:.4f} {ln.end:.4f}"
        utt2spk[utt] = spk
        utt2emo[utt] = ln.label
        utt2session[utt] = f"Ses0{ln.session}"
        utt2avd[utt] = f"{ln.act} {ln.val} {ln.dom}"  # file order is [val, act, dom]
        spk2gender[spk] = spk[-1].lower()

    standard = set(classes) == set(FOUR) and set(label_map.items()) <= {("exc", "hap")}
    merged = label_map.get("exc") == "hap"
    full = standard and merged and a.subset == "all"
    pc.report_classes_and_speakers(CORPUS, utt2emo, utt2spk,
                                   PUBLISHED_CLASSES if full else None,
                                   PUBLISHED_SPEAKERS if full else None, a.strict)
    pc.check_counts(CORPUS, "utterances per session", Counter(utt2session.values()),
                    PUBLISHED_SESSIONS if full else None, a.strict)
    total = PUBLISHED_TOTALS.get((a.subset, merged)) if standard else None
    if total is not None:
        pc.check_total(CORPUS, "utterances", len(utt2emo), total, a.strict)
    else:
        print(f"{CORPUS}: no published counts for this class set / subset; none compared")

    pc.write_data_dir(a.data_dir, wav_scp=wav_scp, segments=segments or None, utt2spk=utt2spk,
                      utt2emo=utt2emo, spk2gender=spk2gender, classes=classes,
                      extra={"utt2session": utt2session, "utt2avd": utt2avd})
    print(f"{CORPUS}: wrote {a.data_dir} ({len(utt2emo)} utterances, "
          f"{len(set(utt2spk.values()))} speakers)")
    return 0


if __name__ == "__main__":
    pc.run(main, "prepare_iemocap.py")
