"""Cross-validation folds and validation splits from a Kaldi data directory.

Protocols (`--cv`):
  auto                    utt2fold if present, else lists in <data>/cv/, else
                          leave-one-session-out if utt2session, else leave-one-speaker-out
  utt2fold                the corpus-defined fold of every utterance (<data>/utt2fold)
  lists:<dir>             <dir>/fold<k>/{train,test[,valid]} utterance lists (corpus-defined)
  leave-one-session-out   one fold per value of utt2session
  leave-one-speaker-out   one fold per speaker (utt2spk)
  leave-one-group-out     one fold per value of utt2group
  speaker-groups:K        K speaker-disjoint folds of about equal size (seeded)

Validation (`--valid`):
  random:P      a seeded random fraction P of the training utterances (the emotion2vec protocol)
  speaker       one held-out training speaker: the test speaker's session partner when the
                test fold is one speaker of a session, else a seeded random training speaker
  list:<file>   the training utterances listed in <file>
  none          no validation set: the last epoch's model is kept
  test          the test fold itself (emotion2vec's optimistic "eval_is_test" setting; the
                report flags it)
A corpus-defined fold list with a `valid` list uses it whatever `--valid` says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from emotion2vec.datadir import c_sort_key, read_kv
from emotion2vec.errors import E2VError


@dataclass
class Fold:
    name: str                      # fold1 .. foldK
    held_out: str                  # what the test set is (session, speaker, fold name ...)
    train: List[str]
    test: List[str]
    valid: List[str] = field(default_factory=list)
    valid_from: str = ""           # how the validation set was chosen


@dataclass
class FoldPlan:
    protocol: str                  # the resolved --cv value
    corpus_defined: bool           # split given by the corpus (utt2fold / lists)
    folds: List[Fold]
    speaker_independent: bool = True
    overlap: Dict[str, List[str]] = field(default_factory=dict)  # fold -> shared speakers


def _natural_key(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def _read_list(path: Path) -> List[str]:
    if not path.is_file():
        raise E2VError(f"{path}: no such utterance list")
    out, seen = [], set()
    for lineno, line in enumerate(open(path, encoding="utf-8"), 1):
        f = line.split()
        if not f:
            continue
        if f[0] in seen:
            raise E2VError(f"{path}:{lineno}: utterance '{f[0]}' listed twice")
        seen.add(f[0])
        out.append(f[0])
    return out


def _lookup(mapping: Mapping[str, str], utts: Sequence[str], path: Path) -> Dict[str, str]:
    missing = [u for u in utts if u not in mapping]
    if missing:
        raise E2VError(f"{path}: no entry for {len(missing)} utterance(s), e.g. '{missing[0]}'")
    return {u: mapping[u].split()[0] for u in utts}


def _leave_one_out(utts: Sequence[str], key: Mapping[str, str]) -> List[Fold]:
    values = sorted(set(key.values()), key=_natural_key)
    if len(values) < 2:
        raise E2VError(f"need at least 2 distinct values to leave one out, found {values}")
    folds = []
    for k, v in enumerate(values, 1):
        test = [u for u in utts if key[u] == v]
        train = [u for u in utts if key[u] != v]
        folds.append(Fold(f"fold{k}", v, train, test))
    return folds


def _speaker_groups(utts, utt2spk, k: int, seed: int) -> List[Fold]:
    spks = sorted(set(utt2spk.values()), key=c_sort_key)
    if k < 2 or k > len(spks):
        raise E2VError(f"speaker-groups:{k}: need 2 <= K <= number of speakers ({len(spks)})")
    count = {s: 0 for s in spks}
    for u in utts:
        count[utt2spk[u]] += 1
    rng = np.random.default_rng(seed)
    order = [spks[i] for i in rng.permutation(len(spks))]
    # Largest speakers first (stable over the seeded shuffle), each to the smallest group.
    order.sort(key=lambda s: -count[s])
    groups: List[List[str]] = [[] for _ in range(k)]
    sizes = [0] * k
    for s in order:
        g = int(np.argmin(sizes))
        groups[g].append(s)
        sizes[g] += count[s]
    folds = []
    for i, g in enumerate(groups, 1):
        gs = set(g)
        folds.append(Fold(f"fold{i}", "+".join(sorted(g, key=c_sort_key)),
                          [u for u in utts if utt2spk[u] not in gs],
                          [u for u in utts if utt2spk[u] in gs]))
    return folds


def _lists(dir_: Path, utts: Sequence[str]) -> List[Fold]:
    if not dir_.is_dir():
        raise E2VError(f"{dir_}: no such fold-list directory")
    fold_dirs = sorted((p for p in dir_.iterdir() if p.is_dir() and re.fullmatch(r"fold\d+", p.name)),
                       key=lambda p: _natural_key(p.name))
    if not fold_dirs:
        raise E2VError(f"{dir_}: no fold<k>/ sub-directories")
    known = set(utts)
    folds = []
    for k, d in enumerate(fold_dirs, 1):
        parts = {}
        for name in ("train", "test", "valid"):
            p = d / name
            if name == "valid" and not p.is_file():
                continue
            lst = _read_list(p)
            bad = [u for u in lst if u not in known]
            if bad:
                raise E2VError(f"{p}: {len(bad)} utterance(s) without a usable label, "
                               f"e.g. '{bad[0]}'")
            parts[name] = lst
        clash = set(parts["train"]) & set(parts["test"])
        if clash:
            raise E2VError(f"{d}: {len(clash)} utterance(s) in both train and test, "
                           f"e.g. '{sorted(clash)[0]}'")
        valid = parts.get("valid", [])
        if set(valid) & set(parts["test"]):
            raise E2VError(f"{d}: valid and test lists overlap")
        folds.append(Fold(f"fold{k}", d.name, [u for u in parts["train"] if u not in set(valid)],
                          parts["test"], valid, "list" if valid else ""))
    return folds


def resolve_cv(data: Path, cv: str) -> str:
    if cv != "auto":
        return cv
    if (data / "utt2fold").is_file():
        return "utt2fold"
    if (data / "cv").is_dir():
        return f"lists:{data / 'cv'}"
    if (data / "utt2session").is_file():
        return "leave-one-session-out"
    return "leave-one-speaker-out"


def make_folds(data_dir, utts: Sequence[str], cv: str = "auto", *, seed: int = 42) -> FoldPlan:
    """Folds over `utts` (the labelled utterances in use) following protocol `cv`."""
    data = Path(data_dir)
    cv = resolve_cv(data, cv)
    utts = sorted(utts, key=c_sort_key)
    utt2spk = _lookup(read_kv(data / "utt2spk"), utts, data / "utt2spk")
    corpus_defined = False
    if cv == "utt2fold":
        folds = _leave_one_out(utts, _lookup(read_kv(data / "utt2fold"), utts, data / "utt2fold"))
        corpus_defined = True
    elif cv.startswith("lists:"):
        folds = _lists(Path(cv[len("lists:"):]), utts)
        corpus_defined = True
    elif cv == "leave-one-session-out":
        folds = _leave_one_out(utts, _lookup(read_kv(data / "utt2session"), utts,
                                             data / "utt2session"))
    elif cv == "leave-one-speaker-out":
        folds = _leave_one_out(utts, utt2spk)
    elif cv == "leave-one-group-out":
        folds = _leave_one_out(utts, _lookup(read_kv(data / "utt2group"), utts, data / "utt2group"))
    elif cv.startswith("speaker-groups:"):
        try:
            k = int(cv.split(":", 1)[1])
        except ValueError:
            raise E2VError(f"--cv {cv}: want speaker-groups:K with an integer K") from None
        folds = _speaker_groups(utts, utt2spk, k, seed)
    else:
        raise E2VError(f"unknown --cv '{cv}' (auto, utt2fold, lists:<dir>, leave-one-session-out, "
                       "leave-one-speaker-out, leave-one-group-out, speaker-groups:K)")
    for f in folds:
        if not f.test:
            raise E2VError(f"{f.name} ({f.held_out}): empty test set")
        if not f.train:
            raise E2VError(f"{f.name} ({f.held_out}): empty training set")
    plan = FoldPlan(cv, corpus_defined, folds)
    for f in folds:
        shared = sorted({utt2spk[u] for u in f.test} & {utt2spk[u] for u in f.train + f.valid},
                        key=c_sort_key)
        if shared:
            plan.overlap[f.name] = shared
    plan.speaker_independent = not plan.overlap
    return plan


def split_valid(fold: Fold, spec: str, *, utt2spk: Mapping[str, str],
                utt2session: Optional[Mapping[str, str]] = None, seed: int = 42) -> None:
    """Choose `fold.valid` from `fold.train` (in place) following `spec`."""
    if fold.valid_from == "list":          # corpus-defined validation list wins
        return
    train = list(fold.train)
    if spec == "none":
        fold.valid, fold.valid_from = [], "none"
        return
    if spec == "test":
        fold.valid, fold.valid_from = list(fold.test), "test"
        return
    if spec.startswith("random:"):
        try:
            frac = float(spec.split(":", 1)[1])
        except ValueError:
            raise E2VError(f"--valid {spec}: want random:P with 0 < P < 1") from None
        if not 0 < frac < 1:
            raise E2VError(f"--valid {spec}: want random:P with 0 < P < 1")
        n_valid = len(train) - int((1 - frac) * len(train))  # as emotion2vec: train gets floor
        if n_valid < 1 or n_valid >= len(train):
            raise E2VError(f"{fold.name}: --valid {spec} leaves no training or validation data")
        rng = np.random.default_rng(seed)
        perm = rng.permutation(len(train))
        vset = {train[i] for i in perm[:n_valid]}
        fold.valid = [u for u in train if u in vset]
        fold.train = [u for u in train if u not in vset]
        fold.valid_from = spec
        return
    if spec == "speaker":
        spks = sorted({utt2spk[u] for u in train}, key=c_sort_key)
        if len(spks) < 2:
            raise E2VError(f"{fold.name}: --valid speaker needs at least 2 training speakers")
        chosen = None
        test_spks = {utt2spk[u] for u in fold.test}
        if utt2session is not None and len(test_spks) == 1:
            # The session partner: a training speaker recorded in the test speaker's session.
            sess = {utt2session.get(u) for u in fold.test}
            partners = sorted({utt2spk[u] for u in train if utt2session.get(u) in sess},
                              key=c_sort_key)
            if partners:
                chosen = partners[0]
        if chosen is None:
            chosen = spks[int(np.random.default_rng(seed).integers(len(spks)))]
        fold.valid = [u for u in train if utt2spk[u] == chosen]
        fold.train = [u for u in train if utt2spk[u] != chosen]
        fold.valid_from = f"speaker {chosen}"
        return
    if spec.startswith("list:"):
        path = Path(spec[len("list:"):])
        lst = set(_read_list(path))
        fold.valid = [u for u in train if u in lst]
        fold.train = [u for u in train if u not in lst]
        if not fold.valid:
            raise E2VError(f"{fold.name}: none of the utterances in {path} is in its training set")
        if not fold.train:
            raise E2VError(f"{fold.name}: {path} leaves no training utterances")
        fold.valid_from = f"list {path}"
        return
    raise E2VError(f"unknown --valid '{spec}' (random:P, speaker, list:<file>, none, test)")


__all__ = ["Fold", "FoldPlan", "make_folds", "split_valid", "resolve_cv"]
