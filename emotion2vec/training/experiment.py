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
from emotion2vec.heads import build_head, head_class, load_config
from emotion2vec.heads.defaults import feature_default
from emotion2vec.heads.inputs import fold_splits
from emotion2vec.heads.pooling import PooledInput, canonical
from emotion2vec.heads.registry import default_valid
from emotion2vec.labels import read_label_map
from emotion2vec.locks import JobLock
from emotion2vec.report import write_predictions
from emotion2vec.training import earlyfusion, foldstate
from emotion2vec.training.expdir import load_settings, log, read_list, write_list
from emotion2vec.training.featureset import FeatureSet, open_feature_dir
from emotion2vec.training.results import classes_missing_in_training

# The one home of the experiment defaults: steps/train_cv.sh and train_cv_prepare pass on only
# what the user set.  Left to others: the head (None: heads/defaults.py's table for the
# features), the validation split (None: the head's `default_valid`), class weighting,
# normalisation and pooling (None / '': the head configuration's).
DEFAULTS = {"cv": "auto", "seeds": 1, "seed": 42, "drop_unlisted": False,
            "allow_speaker_overlap": False}
NORMALIZE = ("none", "global", "speaker")
TRANSDUCTIVE = ("speaker normalisation: every speaker standardised with the statistics of its "
                "own utterances, labels unused; test speakers' statistics come from their own "
                "(unlabelled) test utterances: the transductive protocol")


def prepare(data_dir, feat_dir, exp_dir, *, head: Optional[str] = None,
            config: Optional[str] = None, cv: str = DEFAULTS["cv"],
            valid: Optional[str] = None, seeds: int = DEFAULTS["seeds"],
            seed: int = DEFAULTS["seed"], classes: Optional[str] = None,
            label_map: Optional[str] = None, normalize: str = "", pooling: str = "",
            class_weight: Optional[bool] = None, device: str = "",
            drop_unlisted: bool = DEFAULTS["drop_unlisted"],
            allow_speaker_overlap: bool = DEFAULTS["allow_speaker_overlap"],
            command: str = "") -> Dict:
    """Check inputs, build folds and write the experiment's settings.  Returns the settings.
    `feat_dir`: one feature directory, or several joined by ',' (early fusion)."""
    feats = earlyfusion.split_feat_dirs(feat_dir)
    data, exp = Path(data_dir).resolve(), Path(exp_dir).resolve()
    scps = [_check_inputs(data, f, seeds) for f in feats]
    if head:
        head_class(head)   # an unknown head fails before anything is read
        if len(feats) > 1:
            earlyfusion.check_head(head, feats)
    inv_path = Path(classes) if classes else data / "emotions.txt"
    labels, dropped, inventory, lmap = _read_labels(data, label_map, inv_path, drop_unlisted)
    utts = sorted(labels, key=c_sort_key)
    opts = dict(normalize=normalize, pooling=pooling, class_weight=class_weight, device=device)
    if len(feats) == 1:
        fs, feats_scp, feat_info, level = open_feature_dir(feats[0], utts, exp / "feats_plain")
        head, cfg, chosen = _choose_head(head, config, feat_info, level, **opts)
        _check_level(head, level, feat_info, scps[0])
        dim, fused = fs.dim, None
    else:
        head, cfg, chosen, fused = _open_fused(feats, utts, exp, head, config, opts)
        feat_info, level, dim = fused[1], "utterance", fused[1]["dim"]
        feats_scp = exp / earlyfusion.FUSED_DIR / "feats.scp"
    valid = valid or default_valid(head)
    plan, speaker_note = _make_folds(data, utts, cv, valid, seed, allow_speaker_overlap)
    settings = {
        "head": head, "head_chosen_by": chosen, "config": cfg, "cv": plan.protocol,
        "valid": valid, "pooling": fused[1]["pooling"] if fused else cfg.get("pooling"),
        "normalize_note": TRANSDUCTIVE if cfg["normalize"] == "speaker" else "",
        "seed": seed, "seeds": [seed + i for i in range(seeds)], "classes": inventory,
        "classes_file": str(inv_path.resolve()), "label_map": lmap,
        "normalize": cfg["normalize"], "class_weight": bool(cfg.get("class_weight", False)),
        "drop_unlisted": drop_unlisted, "allow_speaker_overlap": allow_speaker_overlap,
        "data_dir": str(data), "feat_dir": ",".join(map(str, feats)),
        "feats_scp": str(feats_scp), "feat_info": feat_info, "feature_level": level, "dim": dim,
        "num_utts": len(utts), "num_dropped": len(dropped), "num_folds": len(plan.folds),
        "lists_sha256": _lists_digest(utts, labels, plan),
    }
    exp.mkdir(parents=True, exist_ok=True)
    _check_rerun(exp, settings)
    if fused:   # after the rerun check: a refused rerun leaves the experiment's ark alone
        earlyfusion.build(fused[0], fused[1], utts, feats_scp.parent)
    settings["command"] = command
    _write_experiment(exp, settings, plan, speaker_note, labels, dropped)
    return settings


def _open_fused(feats: Sequence[Path], utts: Sequence[str], exp: Path, head: Optional[str],
                config: Optional[str], opts: Dict):
    """(head, cfg, why, (components, fused feat_info)) of an early fusion; the ark is built
    later.  The head gets the fused vectors as they are (pooling 'mean' of one row): the
    pooling was applied per set, and the fused feat_info records it."""
    comps = earlyfusion.open_components(feats, utts, exp)
    basis, gran = earlyfusion.default_basis(comps)
    head, cfg, chosen = _choose_head(head, config, basis, gran, **opts)
    if chosen != "--head":
        chosen += " (early fusion: the row of the first feature set)"
    earlyfusion.check_head(head, feats)
    info = earlyfusion.fused_info(comps, cfg["pooling"])
    info["pooling"] = cfg["pooling"]
    cfg["pooling"] = "mean"
    return head, cfg, chosen, (comps, info)


def _check_inputs(data: Path, feats: Path, seeds: int) -> Path:
    if not data.is_dir():
        raise E2VError(f"{data}: no such data directory")
    scp = feats / "feats.scp"
    if not scp.is_file():
        raise E2VError(f"{scp}: no such file (run steps/extract_feats.sh first)")
    if seeds < 1:
        raise E2VError("--seeds must be >= 1")
    return scp


def _choose_head(head: Optional[str], config: Optional[str], feat_info: Dict, level: str, *,
                 normalize: str, pooling: str, class_weight: Optional[bool], device: str
                 ) -> Tuple[str, Dict, str]:
    """(head, its configuration with the overrides applied, why this head): the user's, else
    the row of heads/defaults.py for these features (its normalize / pooling unless set)."""
    chosen = "--head"
    if not head:
        row = feature_default(feat_info.get("feat_type"), feat_info.get("granularity") or level)
        head = row.head
        normalize = normalize or (row.normalize or "")
        pooling = pooling or (row.pooling or "")
        chosen = (f"the default for {feat_info.get('feat_type') or 'these'} "
                  f"{feat_info.get('granularity') or level} features (heads/defaults.py): "
                  f"{row.why}")
        log(f"--head left to the toolkit: {head} ({chosen})")
    cfg = load_config(head, config)
    if normalize:
        if normalize not in NORMALIZE:
            raise E2VError(f"--normalize '{normalize}' not one of none, global, speaker")
        cfg["normalize"] = normalize
    cfg.setdefault("normalize", "none")
    if cfg["normalize"] not in NORMALIZE:
        raise E2VError(f"normalize '{cfg['normalize']}' not one of none, global, speaker")
    pooled = issubclass(head_class(head), PooledInput)
    if pooling and not pooled:
        raise E2VError(f"--pooling {pooling}: head '{head}' works on frames and pools them "
                       "itself; --pooling is for the utterance heads (svm, logreg, linear, mlp)")
    if pooling:
        cfg["pooling"] = pooling
    if pooled:
        try:
            cfg["pooling"] = canonical(cfg.get("pooling", "mean"))
        except E2VError as e:
            raise E2VError(f"{config or head + '.yaml'}: {e}") from None
    if class_weight is not None:
        cfg["class_weight"] = bool(class_weight)
    if device:
        cfg["device"] = device
    return head, cfg, chosen


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


def _check_level(head: str, level: str, feat_info: Dict, scp: Path) -> None:
    utt_level = level == "utterance" or feat_info.get("granularity") == "utterance"
    if utt_level and head_class(head).level != "utterance":
        # openSMILE functionals exist only per utterance: its frames are the LLDs.
        how = ("--opensmile-level lld" if feat_info.get("feat_type") == "opensmile"
               else "--granularity frame")
        raise E2VError(f"head '{head}' needs frame-level features, but {scp} holds one vector "
                       f"per utterance (extract with {how})")


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
    utt2spk = {u: v.split()[0] for u, v in read_kv(Path(s["data_dir"]) / "utt2spk").items()}
    parts, input_norm, cfg = fold_splits(
        s["head"], s["config"], s.get("feat_info"), s.get("feature_level", "frame"),
        fs.__getitem__, fs.dim, {"train": train, "valid": valid, "test": test},
        {u: index[labels[u]] for u in train + valid + test}, utt2spk, log=log)
    tr, va, te = parts["train"], (parts["valid"] if valid else None), parts["test"]
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
        post = head.predict_split(te, batch=predict_batch)
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
