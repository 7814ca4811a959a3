"""A cross-validation experiment directory: prepare, train one fold, merge and score.

Layout of `<exp>`:
    settings.json          every setting (checked on rerun: a changed setting is refused)
    classes.txt utt2label  class inventory and the (mapped) label of every utterance used
    dropped_utts           utterances left out by --drop-unlisted (with their labels), if any
    folds/fold<k>/{train,valid,test}   utterance lists; folds/plan.json (protocol, held-out set)
    fold<k>/seed<s>/       head.json + head.safetensors, predictions, train.json, .done
    fold<k>/.done          the fold is complete for the recorded inputs (reruns skip it; other
                           features or lists retrain it: see training/foldstate.py)
    fold<k>/.lock          held by the job training the fold
    results.json predictions summary.md confusion.{txt,png} [missing_utts]
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import yaml

from emotion2vec.datadir import c_sort_key, read_classes, read_kv
from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_write_text
from emotion2vec.folds import make_folds, split_valid
from emotion2vec.report import write_predictions
from emotion2vec.heads import Split, build_head
from emotion2vec.heads.base import _import_families, REGISTRY
from emotion2vec.locks import JobLock, busy
from emotion2vec.training import foldstate
from emotion2vec.training.features import FeatureSet, convert_to_plain, read_feat_info
from emotion2vec.training.normalize import SpeakerNormalized, speaker_stats

REPO = Path(__file__).resolve().parents[2]


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _write_list(path: Path, utts: Sequence[str]) -> None:
    atomic_write_text(path, "".join(u + "\n" for u in utts))


def _read_list(path: Path) -> List[str]:
    return [line.split()[0] for line in open(path, encoding="utf-8") if line.strip()]


def load_config(head: str, config: Optional[str]) -> Dict:
    """The head's YAML configuration: `config` if given, else conf/heads/<head>.yaml."""
    _import_families()
    if head not in REGISTRY:
        raise E2VError(f"unknown head '{head}' (one of {', '.join(sorted(REGISTRY))})")
    path = Path(config) if config else REPO / "conf" / "heads" / f"{head}.yaml"
    if not path.is_file():
        if config:
            raise E2VError(f"{path}: no such head configuration file")
        return {}
    try:
        cfg = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise E2VError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(cfg, dict):
        raise E2VError(f"{path}: want a mapping of options")
    if cfg.get("head", head) != head:
        raise E2VError(f"{path}: configuration is for head '{cfg['head']}', not '{head}'")
    cfg.pop("head", None)
    return cfg


def read_label_map(path) -> Dict[str, str]:
    out: Dict[str, str] = {}
    p = Path(path)
    if not p.is_file():
        raise E2VError(f"{p}: no such label map")
    for lineno, line in enumerate(open(p, encoding="utf-8"), 1):
        f = line.split("#", 1)[0].split()
        if not f:
            continue
        if len(f) != 2:
            raise E2VError(f"{p}:{lineno}: want '<from> <to>', got {line.rstrip()!r}")
        if f[0] in out:
            raise E2VError(f"{p}:{lineno}: label '{f[0]}' mapped twice")
        out[f[0]] = f[1]
    return out


def prepare(data_dir, feat_dir, exp_dir, *, head: str, config: Optional[str] = None,
            cv: str = "auto", valid: str = "random:0.2", seeds: int = 1, seed: int = 42,
            classes: Optional[str] = None, label_map: Optional[str] = None,
            normalize: str = "", class_weight: bool = False, device: str = "", drop_unlisted: bool = False,
            allow_speaker_overlap: bool = False, command: str = "") -> Dict:
    """Check inputs, build folds and write the experiment's settings.  Returns the settings."""
    data, feats, exp = Path(data_dir).resolve(), Path(feat_dir).resolve(), Path(exp_dir).resolve()
    if not data.is_dir():
        raise E2VError(f"{data}: no such data directory")
    scp = feats / "feats.scp"
    if not scp.is_file():
        raise E2VError(f"{scp}: no such file (run steps/extract_feats.sh first)")
    if seeds < 1:
        raise E2VError("--seeds must be >= 1")
    cfg = load_config(head, config)
    if normalize:
        if normalize not in ("none", "global", "speaker"):
            raise E2VError(f"--normalize '{normalize}' not one of none, global, speaker")
        cfg["normalize"] = normalize
    cfg.setdefault("normalize", "none")
    if cfg["normalize"] not in ("none", "global", "speaker"):
        raise E2VError(f"normalize '{cfg['normalize']}' not one of none, global, speaker")
    if class_weight:
        cfg["class_weight"] = True
    if device:
        cfg["device"] = device

    # Labels: utt2emo through the label map, checked against the inventory.
    utt2emo = read_kv(data / "utt2emo")
    lmap = read_label_map(label_map) if label_map else {}
    inv_path = Path(classes) if classes else data / "emotions.txt"
    if not inv_path.is_file():
        raise E2VError(f"no class inventory: {inv_path} is missing (pass --classes FILE)")
    inventory = read_classes(inv_path)
    labels, dropped = {}, {}
    for u, v in utt2emo.items():
        lab = lmap.get(v.split()[0], v.split()[0])
        if lab in inventory:
            labels[u] = lab
        elif drop_unlisted:
            dropped[u] = v.split()[0]
        else:
            raise E2VError(f"{data / 'utt2emo'}: utterance '{u}' has label '{lab}'"
                           + (f" (mapped from '{v}')" if lab != v else "")
                           + f", not in the class inventory {inv_path} {inventory}; "
                           "map it with --label-map or pass --drop-unlisted true")
    if not labels:
        raise E2VError(f"{data / 'utt2emo'}: no utterance has a label in {inventory}")
    utts = sorted(labels, key=c_sort_key)

    # Features: every labelled utterance must have a readable entry.
    feat_info = read_feat_info(feats)
    fs = FeatureSet(scp, utts, check_finite=False)
    feats_scp = scp
    if fs.needs_conversion:
        _log(f"{len(fs.needs_conversion)} feature entries are not plain float matrices: "
             f"converting them once into {exp / 'feats_plain'}")
        feats_scp = convert_to_plain(scp, utts, exp / "feats_plain")
        fs = FeatureSet(feats_scp, utts, check_finite=False)
    num_frames = [fs.num_frames(u) for u in utts]
    level = "frame" if max(num_frames) > 1 else "utterance"
    if feat_info.get("granularity") == "utterance" or level == "utterance":
        if REGISTRY[head].level != "utterance":
            raise E2VError(f"head '{head}' needs frame-level features, but {scp} holds one vector "
                           "per utterance (extract with --granularity frame)")

    # Folds.
    plan = make_folds(data, utts, cv, seed=seed)
    utt2spk = {u: v.split()[0] for u, v in read_kv(data / "utt2spk").items()}
    utt2session = ({u: v.split()[0] for u, v in read_kv(data / "utt2session").items()}
                   if (data / "utt2session").is_file() else None)
    for f in plan.folds:
        split_valid(f, valid, utt2spk=utt2spk, utt2session=utt2session, seed=seed)
    speaker_note = ""
    if plan.overlap:
        ex = next(iter(plan.overlap.items()))
        detail = f"e.g. {ex[0]} shares speaker(s) {', '.join(ex[1][:3])} between test and training"
        if plan.corpus_defined:
            speaker_note = f"corpus-defined split; {detail}"
        elif allow_speaker_overlap:
            speaker_note = f"allowed by --allow-speaker-overlap; {detail}"
        else:
            raise E2VError(f"--cv {plan.protocol}: test speakers also occur in training ({detail}); "
                           "use leave-one-speaker-out or speaker-groups:K, or pass "
                           "--allow-speaker-overlap true")
    elif plan.corpus_defined:
        speaker_note = "corpus-defined split"

    digest = hashlib.sha256()
    for u in utts:
        digest.update(f"{u} {labels[u]}\n".encode())
    for f in plan.folds:
        for part in (f.train, f.valid, f.test):
            digest.update(("|".join(part) + "\n").encode())
    settings = {
        "head": head, "config": cfg, "cv": plan.protocol, "valid": valid,
        "seed": seed, "seeds": [seed + i for i in range(seeds)], "classes": inventory,
        "classes_file": str(inv_path.resolve()), "label_map": lmap,
        "normalize": cfg["normalize"], "class_weight": bool(cfg.get("class_weight", False)),
        "drop_unlisted": drop_unlisted, "allow_speaker_overlap": allow_speaker_overlap,
        "data_dir": str(data), "feat_dir": str(feats), "feats_scp": str(feats_scp),
        "feat_info": feat_info, "feature_level": level, "dim": fs.dim,
        "num_utts": len(utts), "num_dropped": len(dropped), "num_folds": len(plan.folds),
        "lists_sha256": digest.hexdigest(),
    }
    exp.mkdir(parents=True, exist_ok=True)
    sfile = exp / "settings.json"
    if sfile.is_file():
        old = json.loads(sfile.read_text())
        diff = [k for k in sorted(set(old) | set(settings))
                if k not in ("command",) and old.get(k) != settings.get(k)]
        if diff:
            raise E2VError(f"{exp} was made with different settings ({', '.join(diff)}); "
                           "use a new experiment directory or remove this one")
        _log(f"{exp}: same settings as before; folds already done are kept")
    settings["command"] = command
    plan_json = {"protocol": plan.protocol, "corpus_defined": plan.corpus_defined,
                 "speaker_independent": plan.speaker_independent, "speaker_note": speaker_note,
                 "overlap": plan.overlap,
                 "folds": [{"fold": f.name, "held_out": f.held_out, "num_train": len(f.train),
                            "num_valid": len(f.valid), "num_test": len(f.test),
                            "valid_from": f.valid_from} for f in plan.folds]}
    for f in plan.folds:
        d = exp / "folds" / f.name
        d.mkdir(parents=True, exist_ok=True)
        _write_list(d / "train", f.train)
        _write_list(d / "valid", f.valid)
        _write_list(d / "test", f.test)
    atomic_write_text(exp / "folds" / "plan.json", json.dumps(plan_json, indent=2) + "\n")
    atomic_write_text(exp / "classes.txt", "".join(c + "\n" for c in inventory))
    atomic_write_text(exp / "utt2label", "".join(f"{u} {labels[u]}\n" for u in utts))
    if dropped:
        atomic_write_text(exp / "dropped_utts", "".join(f"{u} {dropped[u]}\n" for u in
                                                        sorted(dropped, key=c_sort_key)))
        _log(f"--drop-unlisted: {len(dropped)} utterance(s) with labels outside the inventory "
             f"left out (listed in {exp / 'dropped_utts'})")
    atomic_write_text(sfile, json.dumps(settings, indent=2) + "\n")
    for f in plan_json["folds"]:
        _log(f"{f['fold']}: held out {f['held_out']}: train {f['num_train']}, "
             f"valid {f['num_valid']} ({f['valid_from'] or 'none'}), test {f['num_test']}")
    return settings


def load_settings(exp) -> Dict:
    p = Path(exp) / "settings.json"
    if not p.is_file():
        raise E2VError(f"{p}: not found (run the preparation step of steps/train_cv.sh first)")
    return json.loads(p.read_text())


def run_fold(exp_dir, k: int, *, predict_batch: int = 256) -> Path:
    """Train and test fold k (1-based) for every seed; skip what is already done."""
    exp = Path(exp_dir).resolve()
    s = load_settings(exp)
    if not 1 <= k <= s["num_folds"]:
        raise E2VError(f"--fold {k}: the experiment has folds 1..{s['num_folds']}")
    out = exp / f"fold{k}"
    with JobLock(out / ".lock", f"fold{k}"):
        fp = foldstate.inputs_fingerprint(exp, s)
        if foldstate.is_done(out, fp):
            _log(f"fold{k}: already done ({out / '.done'})")
            return out
        why = foldstate.stale_reason(out, fp)
        if why:
            _log(f"fold{k}: retraining: {why}")
        foldstate.clean_fold(out, fp)
        _train_fold(exp, s, k, fp, predict_batch)
    return out


def _train_fold(exp: Path, s: Dict, k: int, fp: str, predict_batch: int) -> None:
    name, out = f"fold{k}", exp / f"fold{k}"
    lists = exp / "folds" / name
    train, valid, test = (_read_list(lists / p) for p in ("train", "valid", "test"))
    labels = {u: v for u, v in read_kv(exp / "utt2label").items()}
    classes = s["classes"]
    index = {c: i for i, c in enumerate(classes)}
    fs = FeatureSet(s["feats_scp"], train + valid + test)
    get = fs.__getitem__
    cfg = dict(s["config"])
    input_norm = "none"
    if cfg.get("normalize") == "speaker":
        utt2spk = {u: v.split()[0] for u, v in read_kv(Path(s["data_dir"]) / "utt2spk").items()}
        stats = speaker_stats(get, train + valid + test, utt2spk, fs.dim)
        get = SpeakerNormalized(fs.__getitem__, utt2spk, stats)
        cfg["normalize"] = "none"
        input_norm = "speaker"

    def split(us):
        return Split(us, np.array([index[labels[u]] for u in us], dtype=np.int64), get)

    tr, va = split(train), (split(valid) if valid else None)
    missing_classes = classes_missing_in_training(train, labels, classes)
    if missing_classes:
        _log(f"WARNING: {name}: no training utterance of class(es) {missing_classes} "
             "(the merge step reports what that does to the scores)")
    for sd in s["seeds"]:
        sdir = out / f"seed{sd}"
        if foldstate.is_done(sdir, fp):
            _log(f"{name} seed {sd}: already done")
            continue
        _log(f"{name} seed {sd}: head {s['head']}, train {len(train)}, valid {len(valid)}, "
             f"test {len(test)} utterances")
        head = build_head(s["head"], classes, fs.dim, cfg, s.get("feat_info"))
        head.input_normalization = input_norm
        info = head.fit(tr, va, seed=sd, log=_log)
        post = np.concatenate([head.predict_proba([get(u) for u in test[i:i + predict_batch]])
                               for i in range(0, len(test), predict_batch)])
        hyp = post.argmax(axis=1)
        sdir.mkdir(parents=True, exist_ok=True)
        head.save(sdir)
        write_predictions(sdir / "predictions",
                          [(u, labels[u], classes[h], p) for u, h, p in zip(test, hyp, post)],
                          classes)
        atomic_write_text(sdir / "train.json", json.dumps(info, indent=1) + "\n")
        foldstate.verify_seed(sdir, test)
        foldstate.mark_done(sdir, fp)
        acc = float((hyp == np.array([index[labels[u]] for u in test])).mean())
        _log(f"{name} seed {sd}: test WA {acc * 100:.2f}")
    fs.close()
    foldstate.mark_done(out, fp, seeds=s["seeds"])


def classes_missing_in_training(train: Sequence[str], labels: Dict[str, str],
                                classes: Sequence[str]) -> List[str]:
    """The classes (inventory order) of which a fold's training list has no utterance."""
    seen = {labels[u] for u in train}
    return [c for c in classes if c not in seen]


def _missing_class_warning(fold: Dict, missing: Sequence[str], classes: Sequence[str],
                           seeds: Sequence[int]) -> str:
    """What a class without training utterances did to a scored fold (first seed), in words."""
    parts = []
    for c in missing:
        n, rec = fold["support"][c], fold["recall"][c]
        predicted = sum(row[classes.index(c)] for row in fold["confusion"])
        if n:
            parts.append(f"'{c}': {n} test utterance(s), recall {rec:.2f} % (counted in the "
                         "fold's WA, UA and macro-F1)")
        else:
            parts.append(f"'{c}': no test utterance either (left out of the fold's UA)")
        if predicted:
            parts[-1] += f", predicted for {predicted} test utterance(s)"
    return (f"{fold['fold']}: no training utterance of class(es) {', '.join(missing)}, so the "
            f"head never learnt {'it' if len(missing) == 1 else 'them'}: " + "; ".join(parts)
            + (f" (seed {seeds[0]}; the other seeds are in results.json)" if len(seeds) > 1
               else ""))


def _fold_hypotheses(pfile: Path, classes: Sequence[str]):
    """({utt: label}, {utt: posteriors}) of one seed's predictions file, checked: not empty,
    written for this inventory, every label in it."""
    from emotion2vec.report import check_hypothesis_labels, read_hypotheses
    linenos: Dict[str, int] = {}
    hyp = read_hypotheses(pfile, ref_in_column_2=True, linenos=linenos)
    post = _read_posteriors(pfile, classes)
    check_hypothesis_labels(hyp, classes, pfile, linenos=linenos, inventory="classes.txt",
                            hint="the file does not come from this experiment's head; rerun "
                                 "the fold (remove its .done)")
    return hyp, post


def merge(exp_dir, *, title: Optional[str] = None) -> Dict:
    """Score every fold and seed; write results.json, predictions and the reports.  Classes
    without training utterances in a fold are recorded per fold and as `warnings`."""
    from emotion2vec.report import score_folds, write_predictions, write_reports

    exp = Path(exp_dir).resolve()
    s = load_settings(exp)
    plan = json.loads((exp / "folds" / "plan.json").read_text())
    labels = read_kv(exp / "utt2label")
    classes = s["classes"]
    fp = foldstate.inputs_fingerprint(exp, s)
    for k in range(1, s["num_folds"] + 1):
        holder = busy(exp / f"fold{k}" / ".lock")
        if holder:
            raise E2VError(f"{exp}: fold{k} is still training ({holder})")
    not_done = [f"fold{k}" for k in range(1, s["num_folds"] + 1)
                if not foldstate.is_done(exp / f"fold{k}", fp)]
    if not_done:
        raise E2VError(f"{exp}: {len(not_done)} fold(s) not finished ({', '.join(not_done)}); "
                       f"see {exp / 'log'}/train.*.log and rerun")
    folds = []
    pred_rows: Dict[int, List] = {sd: [] for sd in s["seeds"]}
    for k, meta in enumerate(plan["folds"], 1):
        test = _read_list(exp / "folds" / meta["fold"] / "test")
        train = _read_list(exp / "folds" / meta["fold"] / "train")
        ref = {u: labels[u] for u in test}
        hyps, post = {}, {}
        for sd in s["seeds"]:
            hyps[sd], post[sd] = _fold_hypotheses(exp / meta["fold"] / f"seed{sd}" /
                                                  "predictions", classes)
            for u in test:
                h = hyps[sd].get(u)
                pred_rows[sd].append((u, ref[u], h, post[sd].get(u)))
        train_json = exp / meta["fold"] / f"seed{s['seeds'][0]}" / "train.json"
        best = json.loads(train_json.read_text()).get("best_epoch") if train_json.is_file() else None
        folds.append({"fold": meta["fold"], "held_out": meta["held_out"], "ref": ref, "hyp": hyps,
                      "num_train": meta["num_train"], "num_valid": meta["num_valid"],
                      "valid_from": meta["valid_from"], "best_epoch": best,
                      "classes_missing_in_training":
                          classes_missing_in_training(train, labels, classes)})
    res = score_folds(folds, classes, ci_seed=s["seed"])
    res["warnings"] += [_missing_class_warning(f, f["classes_missing_in_training"], classes,
                                               s["seeds"])
                        for f in res["folds"] if f["classes_missing_in_training"]]
    res["protocol"] = plan["protocol"]
    res["speaker_independent"] = plan["speaker_independent"]
    res["corpus_defined_split"] = plan["corpus_defined"]
    res["speaker_note"] = plan["speaker_note"]
    res["settings"] = s
    for sd, rows in pred_rows.items():
        rows.sort(key=lambda r: c_sort_key(r[0]))
        name = "predictions" if sd == s["seeds"][0] else f"predictions.seed{sd}"
        write_predictions(exp / name, rows, classes)
    write_reports(exp, res, title=title or f"{s['head']} head, {plan['protocol']}")
    return res


def _read_posteriors(path: Path, classes: Sequence[str]) -> Dict[str, np.ndarray]:
    out = {}
    want = "# utt reference hypothesis " + " ".join(f"p({c})" for c in classes)
    for lineno, line in enumerate(open(path, encoding="utf-8"), 1):
        if lineno == 1 and line.rstrip("\n") != want:
            raise E2VError(f"{path}:1: header {line.rstrip()!r} does not match the experiment's "
                           f"classes.txt ({' '.join(classes)}): want {want!r}")
        if line.startswith("#") or not line.strip():
            continue
        f = line.split()
        if len(f) > 3:
            if len(f) != 3 + len(classes):
                raise E2VError(f"{path}:{lineno}: '{f[0]}': {len(f) - 3} posteriors, want "
                               f"{len(classes)} (one per class)")
            out[f[0]] = np.array([float(x) for x in f[3:]])
    return out


__all__ = ["prepare", "run_fold", "merge", "load_settings", "load_config", "read_label_map",
           "classes_missing_in_training"]
