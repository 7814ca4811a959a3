"""A 2-D map of utterance features coloured by emotion (as in the emotion2vec paper's figures).

Utterance vectors (frame features mean-pooled) are z-normalised, reduced to 50 dimensions with
PCA, then embedded with t-SNE (scikit-learn) or UMAP (when umap-learn is installed).  A seeded
random subset of at most --max-utts utterances is drawn, stratified by nothing (uniform).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from emotion2vec.bin._cli import run_main
from emotion2vec.datadir import c_sort_key, read_classes, read_kv
from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_open
from emotion2vec.labels import read_label_map
from emotion2vec.training.featureset import FeatureSet, read_feat_info

PROG = "plot_features"


def embed_2d(X: np.ndarray, method: str, seed: int) -> tuple:
    from sklearn.decomposition import PCA

    X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-8)
    k = min(50, X.shape[0] - 1, X.shape[1])
    if k >= 2 and X.shape[1] > k:
        X = PCA(n_components=k, random_state=seed).fit_transform(X)
    if method in ("auto", "umap"):
        try:
            import umap  # type: ignore
        except ImportError:
            if method == "umap":
                raise E2VError("--method umap: umap-learn is not installed "
                               "(pip install umap-learn, or use --method tsne)") from None
        else:
            return umap.UMAP(random_state=seed).fit_transform(X), "UMAP"
    from sklearn.manifold import TSNE
    perplexity = float(min(30.0, max(2.0, (X.shape[0] - 1) / 3)))
    return TSNE(n_components=2, perplexity=perplexity, random_state=seed,
                init="pca").fit_transform(X), "t-SNE"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument("data_dir")
    p.add_argument("feat_dir")
    p.add_argument("out_png")
    p.add_argument("--method", default="auto", choices=["auto", "tsne", "umap"])
    p.add_argument("--max-utts", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--classes", default="", help="class inventory (default <data>/emotions.txt)")
    p.add_argument("--label-map", default="")
    p.add_argument("--title", default="")
    return p


def main(argv=None):
    a = build_parser().parse_args(argv)

    data, feats = Path(a.data_dir), Path(a.feat_dir)
    lmap = read_label_map(a.label_map)
    labels = {u: lmap.get(v.split()[0], v.split()[0]) for u, v in read_kv(data / "utt2emo").items()}
    inv = Path(a.classes) if a.classes else data / "emotions.txt"
    classes = read_classes(inv) if inv.is_file() else sorted(set(labels.values()))
    utts = sorted((u for u in labels if labels[u] in classes), key=c_sort_key)
    if len(utts) < 5:
        raise E2VError(f"{data}: only {len(utts)} labelled utterance(s); need at least 5 to plot")
    if len(utts) > a.max_utts:
        rng = np.random.default_rng(a.seed)
        utts = [utts[i] for i in sorted(rng.choice(len(utts), a.max_utts, replace=False))]
    X = FeatureSet(feats / "feats.scp", utts).pooled()
    Y, name = embed_2d(X, a.method, a.seed)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    lab = np.array([labels[u] for u in utts])
    for i, c in enumerate(classes):
        m = lab == c
        if m.any():
            ax.scatter(Y[m, 0], Y[m, 1], s=6, alpha=0.7, color=cmap(i % cmap.N),
                       label=f"{c} ({int(m.sum())})")
    info = read_feat_info(feats)
    ax.set_title(a.title or f"{name} of {info.get('feat_type', feats.name)} utterance features")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(markerscale=3, fontsize=8, loc="best")
    fig.tight_layout()
    with atomic_open(a.out_png, "wb") as f:
        fig.savefig(f, format="png", dpi=120)
    plt.close(fig)
    with atomic_open(str(a.out_png) + ".coords") as f:   # the points, for re-plotting
        for u, (x, y) in zip(utts, Y):
            f.write(f"{u} {labels[u]} {x:.4f} {y:.4f}\n")
    print(f"{a.out_png}: {name} of {len(utts)} utterances, {len(classes)} classes")


if __name__ == "__main__":
    run_main(main, PROG)
