"""The classic baseline, ours against the 20-line script a researcher writes first, on a real
corpus in one run, with the same folds.

    python benchmarks/bench_classic.py [--work DIR] [--nj 2] <kaldi-data-dir>
    e.g.  python -m emotion2vec.corpora.ravdess --classes egs/ravdess/conf/emotions.txt \\
              /work/shared/corpora/ravdess_16k /tmp/rav/data
          python benchmarks/bench_classic.py /tmp/rav/data

The plain script (`plain()` below, as one would write it with `opensmile` and scikit-learn:
functionals, per-speaker z-normalisation, LinearSVC C=1e-3 / RBF SVC C=10 gamma=scale, no
tuning) and our recipe steps (steps/extract_feats.sh --feat-type opensmile, steps/train_cv.sh
--head svm with its inner speaker-grouped CV and speaker normalisation, steps/fuse.sh) use the
same folds: the data dir's utt2fold when it has one, else leave-one-speaker-out.  Prints UA /
WA of every system side by side (UA = macro recall over the pooled predictions, as the plain
script computes it, and our per-fold mean with its bootstrap 95 % CI).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STEPS = ROOT / "steps"

# (name, extract_feats.sh options, train_cv.sh options): our systems
OURS = [
    ("ComParE_2016 + svm (ours)", ["--feat-type", "opensmile", "--opensmile-set", "ComParE_2016"],
     ["--head", "svm", "--normalize", "speaker"]),
    ("eGeMAPSv02 + svm (ours)", ["--feat-type", "opensmile", "--opensmile-set", "eGeMAPSv02"],
     ["--head", "svm", "--normalize", "speaker"]),
]
# (name, opensmile feature set, kernel): the plain script's systems
PLAIN = [("ComParE_2016 + linear SVM (plain)", "ComParE_2016", "linear"),
         ("eGeMAPSv02 + RBF SVM (plain)", "eGeMAPSv02", "rbf")]


def read(path: Path) -> dict:
    return dict(line.split(maxsplit=1) for line in path.read_text().splitlines() if line.strip())


def folds_of(data: Path, utts) -> np.ndarray:
    """utt2fold when the data dir has one (as train_cv's --cv auto), else the speaker."""
    table = read(data / "utt2fold") if (data / "utt2fold").is_file() else read(data / "utt2spk")
    return np.array([table[u].split()[0] for u in utts])


def plain(data: Path, feature_set: str, kernel: str) -> dict:
    """What a researcher writes first (kept deliberately plain)."""
    import opensmile
    import soundfile as sf
    from sklearn.metrics import accuracy_score, recall_score
    from sklearn.svm import SVC, LinearSVC

    wav, spk, emo = read(data / "wav.scp"), read(data / "utt2spk"), read(data / "utt2emo")
    smile = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, feature_set),
                            feature_level=opensmile.FeatureLevel.Functionals)
    utts = sorted(emo)
    X = np.stack([smile.process_signal(*sf.read(wav[u], dtype="float32")).values[0]
                  for u in utts])
    s, y, fold = np.array([spk[u] for u in utts]), np.array([emo[u] for u in utts]), \
        folds_of(data, utts)
    for k in np.unique(s):  # per-speaker z-normalisation
        m = s == k
        X[m] = (X[m] - X[m].mean(0)) / (X[m].std(0) + 1e-8)
    hyp = np.empty_like(y)
    for k in np.unique(fold):
        te = fold == k
        clf = LinearSVC(C=1e-3, max_iter=10000) if kernel == "linear" else SVC(C=10, gamma="scale")
        clf.fit(X[~te], y[~te])
        hyp[te] = clf.predict(X[te])
    return {"ua_pooled": 100 * recall_score(y, hyp, average="macro"),
            "wa_pooled": 100 * accuracy_score(y, hyp)}


def sh(*args, cwd: Path) -> None:
    t = time.time()
    r = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(map(str, args))}\n{r.stdout}{r.stderr}")
    print(f"  {Path(str(args[0])).name} ... {time.time() - t:.0f} s", file=sys.stderr)


def ours(data: Path, work: Path, nj: int) -> dict:
    """Our steps, as a recipe runs them; then the fusion of every system."""
    out, exps = {}, []
    for name, feat_opts, train_opts in OURS:
        tag = "_".join(o.lstrip("-") for o in feat_opts[1::2])
        feats, exp = work / f"feats_{tag}", work / f"exp_{tag}_{train_opts[1]}"
        sh(STEPS / "extract_feats.sh", "--nj", nj, *feat_opts, data, feats, cwd=work)
        sh(STEPS / "train_cv.sh", "--cmd", f"run.py --max-jobs-run {nj}", *train_opts, data,
           feats, exp, cwd=work)
        out[name] = scores(exp)
        exps.append(exp)
    fused = work / "exp_fused"
    sh(STEPS / "fuse.sh", *exps, fused, cwd=work)
    out["fusion of ours (posterior mean)"] = scores(fused)
    return out


def scores(exp: Path) -> dict:
    r = json.loads((exp / "results.json").read_text())
    return {"ua_pooled": r["pooled"]["ua"], "wa_pooled": r["pooled"]["wa"],
            "ua_mean": r["ua"]["mean"], "ua_std": r["ua"]["std"],
            "ua_ci": r.get("ua_ci95")}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data_dir")
    p.add_argument("--work", default="/tmp/bench_classic", help="feature and experiment dirs")
    p.add_argument("--nj", type=int, default=2)
    p.add_argument("--no-plain", action="store_true", help="skip the plain script")
    a = p.parse_args(argv)
    data, work = Path(a.data_dir).resolve(), Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    rows = {}
    if not a.no_plain:
        for name, fset, kernel in PLAIN:
            t = time.time()
            rows[name] = plain(data, fset, kernel)
            print(f"  {name} ... {time.time() - t:.0f} s", file=sys.stderr)
    rows.update(ours(data, work, a.nj))
    print(f"{data}: {len(read(data / 'utt2emo'))} utterances, folds: "
          + ("utt2fold" if (data / "utt2fold").is_file() else "leave-one-speaker-out"))
    print(f"{'system':<40} {'UA pooled':>9} {'WA pooled':>9}   UA mean ± std over folds [95 % CI]")
    for name, r in rows.items():
        extra = (f"   {r['ua_mean']:.1f} ± {r['ua_std']:.1f}" + (f" [{r['ua_ci'][0]:.1f}, "
                 f"{r['ua_ci'][1]:.1f}]" if r.get("ua_ci") else "")) if "ua_mean" in r else ""
        print(f"{name:<40} {r['ua_pooled']:>9.1f} {r['wa_pooled']:>9.1f}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
