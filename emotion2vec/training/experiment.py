"""A cross-validation experiment directory: prepare it, train one fold (the layout is in
training/expdir.py; merging and scoring the folds in training/results.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from emotion2vec.datadir import c_sort_key, read_classes, read_kv
from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_write_text
from emotion2vec.folds import make_folds, split_valid
from emotion2vec.heads import Split, build_head, head_class, load_config
from emotion2vec.heads.normalize import SpeakerNormalized, speaker_stats
from emotion2vec.labels import read_label_map
from emotion2vec.locks import JobLock
from emotion2vec.report import write_predictions
from emotion2vec.training import foldstate
from emotion2vec.training.expdir import load_settings, log, read_list, write_list
from emotion2vec.training.featureset import FeatureSet, convert_to_plain, read_feat_info
from emotion2vec.training.results import classes_missing_in_training

# The one home of the experiment defaults: steps/train_cv.sh and train_cv_prepare pass on only
# what the user set.
DEFAULTS = {"head": "e2v", "cv": "auto", "valid": "random:0.2", "seeds": 1, "seed": 42,
            "class_weight": False, "drop_unlisted": False, "allow_speaker_overlap": False}
NORMALIZE = ("none", "global", "speaker")


def prepare(data_dir, feat_dir, exp_dir, *, head: str = DEFAULTS["head"],
            config: Optional[str] = None, cv: str = DEFAULTS["cv"],
            valid: str = DEFAULTS["valid"], seeds: int = DEFAULTS["seeds"],
            seed: int = DEFAULTS["seed"], classes: Optional[str] = None,
            label_map: Optional[str] = None, normalize: str = "",
            class_weight: bool = DEFAULTS["class_weight"], device: str = "",
            drop_unlisted: bool = DEFAULTS["drop_unlisted"],
            allow_speaker_overlap: bool = DEFAULTS["allow_speaker_overlap"],
            command: str = "") -> Dict:
    """Check inputs, build folds and write the experiment's settings.  Returns the settings."""
    data, feats, exp = Path(data_dir).resolve(), Path(feat_dir).resolve(), Path(exp_dir).resolve()
    scp = _check_inputs(data, feats, seeds)
    cfg = _head_config(head, config, normalize, class_weight, device)
    inv_path = Path(classes) if classes else data / "emotions.txt"
    labels, dropped, inventory, lmap = _read_labels(data, label_map, inv_path, drop_unlisted)
    utts = sorted(labels, key=c_sort_key)
    fs, feats_scp, feat_info, level = _open_features(scp, feats, utts, exp, head)
    plan, speaker_note = _make_folds(data, utts, cv, valid, seed, allow_speaker_overlap)
    settings = {
        "head": head, "config": cfg, "cv": plan.protocol, "valid": valid,
        "seed": seed, "seeds": [seed + i for i in range(seeds)], "classes": inventory,
        "classes_file": str(inv_path.resolve()), "label_map": lmap,
        "normalize": cfg["normalize"], "class_weight": bool(cfg.get("class_weight", False)),
        "drop_unlisted": drop_unlisted, "allow_speaker_overlap": allow_speaker_overlap,
        "data_dir": str(data), "feat_dir": str(feats), "feats_scp": str(feats_scp),
        "feat_info": feat_info, "feature_level": level, "dim": fs.dim,
        "num_utts": len(utts), "num_dropped": len(dropped), "num_folds": len(plan.folds),
        "lists_sha256": _lists_digest(utts, labels, plan),
    }
    exp.mkdir(parents=True, exist_ok=True)
    _check_rerun(exp, settings)
    settings["command"] = command
    _write_experiment(exp, settings, plan, speaker_note, labels, dropped)
    return settings


def _check_inputs(data: Path, feats: Path, seeds: int) -> Path:
    if not data.is_dir():
        raise E2VError(f"{data}: no such data directory")
    scp = feats / "feats.scp"
    if not scp.is_file():
        raise E2VError(f"{scp}: no such file (run steps/extract_feats.sh first)")
    if seeds < 1:
        raise E2VError("--seeds must be >= 1")
    return scp


def _head_config(head: str, config: Optional[str], normalize: str, class_weight: bool,
                 device: str) -> Dict:
    """The head's configuration with the command-line overrides applied."""
    cfg = load_config(head, config)
    if normalize:
        if normalize not in NORMALIZE:
            raise E2VError(f"--normalize '{normalize}' not one of none, global, speaker")
        cfg["normalize"] = normalize
    cfg.setdefault("normalize", "none")
    if cfg["normalize"] not in NORMALIZE:
        raise E2VError(f"normalize '{cfg['normalize']}' not one of none, global, speaker")
    if class_weight:
        cfg["class_weight"] = True
    if device:
        cfg["device"] = device
    return cfg


def _read_labels(data: Path, label_map: Optional[str], inv_path: Path, drop_unlisted: bool
                 ) -> Tuple[Dict[str, str], Dict[str, str], List[str], Dict[str, str]]:
    """(labels, dropped, inventory, label map): utt2emo through the label map, checked against
    the inventory; `dropped` holds the utterances left out by --drop-unlisted."""
    utt2emo = read_kv(data / "utt2emo")
    lmap = read_label_map(label_map)
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
    return labels, dropped, inventory, lmap


def _open_features(scp: Path, feats: Path, utts: Sequence[str], exp: Path, head: str):
    """(FeatureSet, the scp training reads, feat_info, level): every labelled utterance must
    have a readable entry; entries that are not plain float matrices are converted once."""
    feat_info = read_feat_info(feats)
    fs = FeatureSet(scp, utts, check_finite=False)
    feats_scp = scp
    if fs.needs_conversion:
        log(f"{len(fs.needs_conversion)} feature entries are not plain float matrices: "
            f"converting them once into {exp / 'feats_plain'}")
        feats_scp = convert_to_plain(scp, utts, exp / "feats_plain")
        fs = FeatureSet(feats_scp, utts, check_finite=False)
    level = "frame" if max(fs.num_frames(u) for u in utts) > 1 else "utterance"
    if feat_info.get("granularity") == "utterance" or level == "utterance":
        if head_class(head).level != "utterance":
            raise E2VError(f"head '{head}' needs frame-level features, but {scp} holds one vector "
                           "per utterance (extract with --granularity frame)")
    return fs, feats_scp, feat_info, level


def _make_folds(data: Path, utts: Sequence[str], cv: str, valid: str, seed: int,
                allow_speaker_overlap: bool):
    """(fold plan with validation sets, speaker note); generated folds whose test speakers
    also train are refused unless allowed."""
    plan = make_folds(data, utts, cv, seed=seed)
    utt2spk = {u: v.split()[0] for u, v in read_kv(data / "utt2spk").items()}
    utt2session = ({u: v.split()[0] for u, v in read_kv(data / "utt2session").items()}
                   if (data / "utt2session").is_file() else None)
    for f in plan.folds:
        split_valid(f, valid, utt2spk=utt2spk, utt2session=utt2session, seed=seed)
    if not plan.overlap:
        return plan, "corpus-defined split" if plan.corpus_defined else ""
    ex = next(iter(plan.overlap.items()))
    detail = f"e.g. {ex[0]} shares speaker(s) {', '.join(ex[1][:3])} between test and training"
    if plan.corpus_defined:
        return plan, f"corpus-defined split; {detail}"
    if allow_speaker_overlap:
        return plan, f"allowed by --allow-speaker-overlap; {detail}"
    raise E2VError(f"--cv {plan.protocol}: test speakers also occur in training ({detail}); "
                   "use leave-one-speaker-out or speaker-groups:K, or pass "
                   "--allow-speaker-overlap true")


def _lists_digest(utts: Sequence[str], labels: Dict[str, str], plan) -> str:
    digest = hashlib.sha256()
    for u in utts:
        digest.update(f"{u} {labels[u]}\n".encode())
    for f in plan.folds:
        for part in (f.train, f.valid, f.test):
            digest.update(("|".join(part) + "\n").encode())
    return digest.hexdigest()


def _check_rerun(exp: Path, settings: Dict) -> None:
    """A rerun must use the settings of the first run (the command line may differ)."""
    sfile = exp / "settings.json"
    if not sfile.is_file():
        return
    old = json.loads(sfile.read_text())
    diff = [k for k in sorted(set(old) | set(settings))
            if k not in ("command",) and old.get(k) != settings.get(k)]
    if diff:
        raise E2VError(f"{exp} was made with different settings ({', '.join(diff)}); "
                       "use a new experiment directory or remove this one")
    log(f"{exp}: same settings as before; folds already done are kept")


def _write_experiment(exp: Path, settings: Dict, plan, speaker_note: str,
                      labels: Dict[str, str], dropped: Dict[str, str]) -> None:
    """Fold lists, plan.json, classes.txt, utt2label, dropped_utts and settings.json."""
    plan_json = {"protocol": plan.protocol, "corpus_defined": plan.corpus_defined,
                 "speaker_independent": plan.speaker_independent, "speaker_note": speaker_note,
                 "overlap": plan.overlap,
                 "folds": [{"fold": f.name, "held_out": f.held_out, "num_train": len(f.train),
                            "num_valid": len(f.valid), "num_test": len(f.test),
                            "valid_from": f.valid_from} for f in plan.folds]}
    for f in plan.folds:
        d = exp / "folds" / f.name
        d.mkdir(parents=True, exist_ok=True)
        write_list(d / "train", f.train)
        write_list(d / "valid", f.valid)
        write_list(d / "test", f.test)
    atomic_write_text(exp / "folds" / "plan.json", json.dumps(plan_json, indent=2) + "\n")
    atomic_write_text(exp / "classes.txt", "".join(c + "\n" for c in settings["classes"]))
    utts = sorted(labels, key=c_sort_key)
    atomic_write_text(exp / "utt2label", "".join(f"{u} {labels[u]}\n" for u in utts))
    if dropped:
        atomic_write_text(exp / "dropped_utts", "".join(f"{u} {dropped[u]}\n" for u in
                                                        sorted(dropped, key=c_sort_key)))
        log(f"--drop-unlisted: {len(dropped)} utterance(s) with labels outside the inventory "
            f"left out (listed in {exp / 'dropped_utts'})")
    atomic_write_text(exp / "settings.json", json.dumps(settings, indent=2) + "\n")
    log(f"{exp}: head {settings['head']}, cv {plan.protocol}, valid {settings['valid']}, "
        f"seeds {' '.join(map(str, settings['seeds']))}")
    for f in plan_json["folds"]:
        log(f"{f['fold']}: held out {f['held_out']}: train {f['num_train']}, "
            f"valid {f['num_valid']} ({f['valid_from'] or 'none'}), test {f['num_test']}")


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
            log(f"fold{k}: already done ({out / '.done'})")
            return out
        why = foldstate.stale_reason(out, fp)
        if why:
            log(f"fold{k}: retraining: {why}")
        foldstate.clean_fold(out, fp)
        _train_fold(exp, s, k, fp, predict_batch)
    return out


def _train_fold(exp: Path, s: Dict, k: int, fp: str, predict_batch: int) -> None:
    name, out = f"fold{k}", exp / f"fold{k}"
    lists = exp / "folds" / name
    train, valid, test = (read_list(lists / p) for p in ("train", "valid", "test"))
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
        log(f"WARNING: {name}: no training utterance of class(es) {missing_classes} "
            "(the merge step reports what that does to the scores)")
    for sd in s["seeds"]:
        sdir = out / f"seed{sd}"
        if foldstate.is_done(sdir, fp):
            log(f"{name} seed {sd}: already done")
            continue
        log(f"{name} seed {sd}: head {s['head']}, train {len(train)}, valid {len(valid)}, "
            f"test {len(test)} utterances")
        head = build_head(s["head"], classes, fs.dim, cfg, s.get("feat_info"))
        head.input_normalization = input_norm
        info = head.fit(tr, va, seed=sd, log=log)
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
        log(f"{name} seed {sd}: test WA {acc * 100:.2f}")
    fs.close()
    foldstate.mark_done(out, fp, seeds=s["seeds"])


__all__ = ["prepare", "run_fold", "load_settings", "DEFAULTS"]
