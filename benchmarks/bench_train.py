#!/usr/bin/env python3
"""Training speed and memory on generated features of IEMOCAP's sizes (prints figures).

1. Utterance-level heads (logreg, svm, linear, mlp) on 5531 x 768 utterance features, 4 classes,
   5 session folds (the IEMOCAP session sizes), 2 speakers per session: whole cross-validation
   time (prepare + 5 folds + merge) in this process.  Target: under a minute on 2 cores.
2. The `e2v` frame-level head on ~1.3 M frames x 768 (IEMOCAP's 5531 utterances at 50 Hz):
   seconds per epoch (train + validation) for one fold, and peak memory.  Features are read
   from the ark by offset per batch, never all loaded: peak RSS stays far below the 4 GB of
   features.

    python benchmarks/bench_train.py            # full sizes (writes ~4 GB of features in --workdir)
    python benchmarks/bench_train.py --quick    # 1/10 of the sizes, a sanity run
"""

from __future__ import annotations

import argparse
import io
import contextlib
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SESSIONS = [1085, 1023, 1151, 1031, 1241]       # IEMOCAP utterances per session
CLASSES = ["ang", "hap", "neu", "sad"]


def rss_mb() -> dict:
    """Current anonymous / file-backed RSS and the peak RSS of this process (MB)."""
    out = {"peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("RssAnon", "RssFile", "VmRSS")):
                k, v = line.split(":")
                out[k] = int(v.split()[0]) / 1024
    return out


def make_data(root: Path, scale: float, dim: int, frames_per_utt: float, seed: int = 0):
    """Data dir + feats (frame level when frames_per_utt > 1, else [1, D] per utterance)."""
    import kaldi_native_io as kio

    rng = np.random.default_rng(seed)
    data, feats = root / "data", root / "feats"
    data.mkdir(parents=True, exist_ok=True)
    feats.mkdir(parents=True, exist_ok=True)
    centers = rng.normal(size=(len(CLASSES), dim)).astype(np.float32) * 0.05  # ~70 % UA
    rows = []
    for s, n in enumerate(SESSIONS, 1):
        n = max(8, int(n * scale))
        for i in range(n):
            spk = f"Ses0{s}{'FM'[i % 2]}"
            rows.append((f"{spk}-{i:05d}", spk, f"Ses0{s}", CLASSES[int(rng.integers(4))]))
    rows.sort()
    for name, col in (("utt2spk", 1), ("utt2session", 2), ("utt2emo", 3)):
        (data / name).write_text("".join(f"{r[0]} {r[col]}\n" for r in rows))
    (data / "emotions.txt").write_text("\n".join(CLASSES) + "\n")
    w = kio.FloatMatrixWriter(f"ark,scp:{feats / 'feats.ark'},{feats / 'feats.scp'}")
    total = 0
    for u, _, _, e in rows:
        if frames_per_utt > 1:
            # IEMOCAP-like durations: log-normal around 4.5 s at 50 Hz (~235 frames)
            T = int(np.clip(rng.lognormal(np.log(frames_per_utt * 0.85), 0.55), 30, 1700))
        else:
            T = 1
        m = rng.standard_normal((T, dim), dtype=np.float32)
        m += centers[CLASSES.index(e)]
        w.write(u, m)
        total += T
    w.close()
    gran = "frame" if frames_per_utt > 1 else "utterance"
    (feats / "feat_info.json").write_text(
        f'{{"feat_type": "generated", "granularity": "{gran}", "dim": {dim}, "frame_rate": 50}}\n')
    return data, feats, len(rows), total


def quiet():
    return contextlib.redirect_stderr(io.StringIO())


def _fold_job(args):
    exp, k = args
    import torch
    torch.set_num_threads(1)
    from emotion2vec.training.experiment import run_fold
    with quiet():
        run_fold(exp, k)
    return k


def bench_utterance_heads(work: Path, scale: float, heads, jobs: int):
    """Folds run as `steps/train_cv.sh` runs them: one single-threaded job per fold, `jobs`
    at a time (2 cores: 2 jobs)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from emotion2vec.training.experiment import prepare
    from emotion2vec.training.results import merge

    t0 = time.time()
    data, feats, n, _ = make_data(work / "utt", scale, 768, 1)
    print(f"[utterance heads] generated {n} x 768 utterance features in {time.time() - t0:.1f} s; "
          f"{jobs} fold jobs at a time, 1 thread each")
    for head in heads:
        exp = work / "utt" / f"exp_{head}"
        shutil.rmtree(exp, ignore_errors=True)
        t0 = time.time()
        with quiet():
            s = prepare(data, feats, exp, head=head, cv="leave-one-session-out")
        # Fresh single-threaded workers, as the launcher starts them (OMP_NUM_THREADS=1): a
        # forked child would inherit BLAS thread pools sized for the whole machine.
        os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            list(pool.map(_fold_job, [(exp, k) for k in range(1, s["num_folds"] + 1)]))
        with quiet():
            r = merge(exp)
        dt = time.time() - t0
        print(f"  {head:7s} whole CV ({s['num_folds']} folds, {n} utts): {dt:6.1f} s   "
              f"(UA {r['ua']['mean']:.1f} %)")


def bench_e2v(work: Path, scale: float, epochs: int):
    from emotion2vec.heads import Split, build_head, load_config
    from emotion2vec.training.experiment import prepare
    from emotion2vec.training.featureset import FeatureSet

    t0 = time.time()
    data, feats, n, total = make_data(work / "frames", scale, 768, 235)
    gb = total * 768 * 4 / 1e9
    print(f"[e2v head] generated {n} utterances, {total} frames x 768 ({gb:.2f} GB fp32) "
          f"in {time.time() - t0:.1f} s")
    exp = work / "frames" / "exp"
    shutil.rmtree(exp, ignore_errors=True)
    with quiet():
        s = prepare(data, feats, exp, head="e2v", cv="leave-one-session-out")
    lists = exp / "folds" / "fold1"
    train, valid = ((lists / p).read_text().split() for p in ("train", "valid"))
    labels = dict(l.split() for l in (exp / "utt2label").read_text().splitlines())
    fs = FeatureSet(feats / "feats.scp", train + valid)
    idx = {c: i for i, c in enumerate(CLASSES)}
    tr = Split(train, np.array([idx[labels[u]] for u in train]), fs.__getitem__)
    va = Split(valid, np.array([idx[labels[u]] for u in valid]), fs.__getitem__)
    frames = sum(fs.num_frames(u) for u in train)
    cfg = load_config("e2v", None)
    cfg["epochs"] = epochs
    head = build_head("e2v", CLASSES, 768, cfg)
    before = rss_mb()
    t0 = time.time()
    with quiet():
        info = head.fit(tr, va, seed=42)
    dt = time.time() - t0
    after = rss_mb()
    per = [h["seconds"] for h in info["history"]]
    print(f"  fold 1: train {len(train)} utts / {frames} frames, valid {len(valid)} utts; "
          f"batch 128, torch threads {__import__('torch').get_num_threads()}")
    print(f"  e2v epoch (train + validation): {dt / epochs:.1f} s on average "
          f"(train part {np.mean(per):.1f} s); 100 epochs x 5 folds ~ "
          f"{dt / epochs * 500 / 3600:.1f} h on this machine")
    print(f"  memory: peak RSS {after['peak']:.0f} MB (before training {before['peak']:.0f} MB; "
          f"anonymous now {after.get('RssAnon', 0):.0f} MB) vs {gb * 1000:.0f} MB of features")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1/10 of the sizes")
    p.add_argument("--workdir", default="", help="where to write features (default: a temp dir)")
    p.add_argument("--threads", type=int, default=2, help="torch threads of the e2v run")
    p.add_argument("--jobs", type=int, default=2, help="parallel fold jobs (utterance heads)")
    p.add_argument("--epochs", type=int, default=2, help="e2v epochs to time")
    p.add_argument("--heads", default="logreg,svm,linear,mlp")
    p.add_argument("--skip-e2v", action="store_true")
    p.add_argument("--skip-utterance", action="store_true")
    a = p.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    scale = 0.1 if a.quick else 1.0
    work = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="bench_train."))
    work.mkdir(parents=True, exist_ok=True)
    print(f"bench_train: {'quick' if a.quick else 'full'} sizes, work dir {work}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    try:
        if not a.skip_utterance:
            bench_utterance_heads(work, scale, a.heads.split(","), a.jobs)
        if not a.skip_e2v:
            bench_e2v(work, scale, a.epochs)
    finally:
        if not a.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
