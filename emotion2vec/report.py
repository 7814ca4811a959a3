"""Reports of a scored system: results.json, summary.md, confusion text/PNG, RESULTS.md rows.

`score_folds` is the one place where predictions become numbers; cross-validation merging and
`steps/score.sh` both call it, so external systems are scored by the same code.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from emotion2vec.datadir import read_utf8
from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_open, atomic_write_text
from emotion2vec.metrics import (MISSING, aggregate, align, bootstrap_ua_ci, format_confusion,
                                 score_labels, shown_columns)

METRIC_KEYS = ("wa", "ua", "f1_macro", "f1_weighted")
NAMES = {"wa": "WA", "ua": "UA", "f1_macro": "macro-F1", "f1_weighted": "weighted-F1"}


# -- prediction files ---------------------------------------------------------------------------
def write_predictions(path, rows: Sequence[Tuple[str, str, Optional[str], Optional[np.ndarray]]],
                      classes: Sequence[str]) -> None:
    """`utt ref hyp p_1 .. p_C` lines (a missing prediction: hyp MISSING, no posteriors)."""
    with atomic_open(path) as f:
        f.write("# utt reference hypothesis " + " ".join(f"p({c})" for c in classes) + "\n")
        for utt, ref, hyp, post in rows:
            tail = "" if post is None else " " + " ".join(f"{p:.6f}" for p in post)
            f.write(f"{utt} {ref} {hyp if hyp is not None else MISSING}{tail}\n")


def read_hypotheses(path, *, ref_in_column_2: bool = False,
                    linenos: Optional[Dict[str, int]] = None) -> Dict[str, str]:
    """`utt label [...]` lines (# comments skipped).  With `ref_in_column_2` the file is one of
    our prediction files (`utt ref hyp ...`) and the third column is the hypothesis.
    `linenos`, if given, receives each utterance's line number (for messages).  A file with no
    prediction at all (empty, only comments, or only MISSING) is an error: nothing to score."""
    path = Path(path)
    if not path.is_file():
        raise E2VError(f"{path}: no such hypothesis file")
    out: Dict[str, str] = {}
    col = 2 if ref_in_column_2 else 1
    n_missing = 0
    for lineno, line in enumerate(read_utf8(path).split("\n"), 1):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split()
        if len(f) <= col:
            raise E2VError(f"{path}:{lineno}: malformed line (want 'utt label ...'): {line.rstrip()!r}")
        if f[0] in out:
            raise E2VError(f"{path}:{lineno}: utterance '{f[0]}' has two predictions")
        if f[col] != MISSING:
            out[f[0]] = f[col]
            if linenos is not None:
                linenos[f[0]] = lineno
        else:
            n_missing += 1
    if not out:
        raise E2VError(f"{path}: no predictions in the file ("
                       + (f"all {n_missing} line(s) say {MISSING}" if n_missing else
                          "it is empty or holds only comments") + "): nothing to score")
    return out


def check_hypothesis_labels(hyp: Dict[str, str], classes: Sequence[str], path, *,
                            linenos: Optional[Dict[str, int]] = None, inventory: str = "",
                            allow_unknown: bool = False, hint: str = "") -> Dict[str, str]:
    """The hypotheses whose label is not in `classes`.  Without `allow_unknown` any is an error
    naming the file, line, utterance, label and inventory; with it they are returned
    ({utt: label}) to be counted as wrong answers."""
    known = set(classes)
    bad = {u: h for u, h in hyp.items() if h not in known}
    if bad and not allow_unknown:
        u, h = next(iter(bad.items()))
        where = f"{path}:{linenos[u]}" if linenos and u in linenos else str(path)
        more = (f" ({len(bad)} hypotheses in all have labels outside it: "
                f"{', '.join(sorted(set(bad.values())))})" if len(bad) > 1 else "")
        raise E2VError(f"{where}: utterance '{u}': hypothesis label '{h}' is not in the class "
                       f"inventory ({inventory + ': ' if inventory else ''}{' '.join(classes)})"
                       f"{more}" + (f"; {hint}" if hint else ""))
    return bad


# -- scoring ------------------------------------------------------------------------------------
def _pct(m: Dict) -> Dict:
    out = {k: round(m[k] * 100, 4) for k in METRIC_KEYS}
    out["recall"] = {c: None if r is None else round(r * 100, 4) for c, r in m["recall"].items()}
    out.update({k: m[k] for k in ("support", "confusion", "num", "num_missing", "num_unknown")})
    return out


def score_folds(folds: Sequence[Dict], classes: Sequence[str], *, ci_seed: int = 0,
                resamples: int = 1000, allow_unknown: bool = False) -> Dict:
    """Score folds x seeds.

    `folds`: [{"fold": name, "ref": {utt: label}, "hyp": {seed: {utt: label}}, ...extra}].
    Every reference utterance is scored; missing hypotheses count as wrong, and so (only with
    `allow_unknown`; otherwise an error) do hypothesis labels outside `classes`.  Returns
    means and standard deviations in percent (mean over folds, the convention), per-fold and
    per-seed values, the pooled metrics + bootstrap 95 % CI of UA over all utterances of the
    first seed, and `warnings` (what was counted wrong and why).
    """
    if not folds:
        raise E2VError("nothing to score: no folds")
    seeds = list(folds[0]["hyp"])
    per = {k: np.zeros((len(seeds), len(folds))) for k in METRIC_KEYS}
    fold_out: List[Dict] = []
    missing: List[str] = []
    pooled_ref: List[str] = []
    pooled_hyp: List[Optional[str]] = []
    for j, fold in enumerate(folds):
        entry = {k: v for k, v in fold.items() if k not in ("ref", "hyp")}
        entry["seeds"] = {}
        for i, s in enumerate(seeds):
            utts, ref, hyp, miss = align(fold["ref"], fold["hyp"][s],
                                         hyp_name=f"{fold['fold']} seed {s}")
            m = score_labels(ref, hyp, classes, allow_unknown=allow_unknown)
            for k in METRIC_KEYS:
                per[k][i, j] = m[k]
            entry["seeds"][str(s)] = {k: round(m[k] * 100, 4) for k in METRIC_KEYS}
            entry["seeds"][str(s)]["num_missing"] = m["num_missing"]
            entry["seeds"][str(s)]["num_unknown"] = m["num_unknown"]
            if i == 0:
                entry.update(_pct(m))
                missing += miss
                pooled_ref += ref
                pooled_hyp += hyp
        if len(seeds) > 1:   # the fold's headline numbers: mean over seeds
            for k in METRIC_KEYS:
                entry[k] = round(float(per[k][:, j].mean()) * 100, 4)
        fold_out.append(entry)
    res: Dict = {}
    for k in METRIC_KEYS:
        fold_means = per[k].mean(axis=0)      # per fold, averaged over seeds
        seed_means = per[k].mean(axis=1)      # per seed, averaged over folds
        a_f, a_s = aggregate(fold_means * 100), aggregate(seed_means * 100)
        res[k] = {"mean": round(a_f["mean"], 4),
                  "std": round(a_s["std"] if len(seeds) > 1 else a_f["std"], 4),
                  "std_folds": round(a_f["std"], 4), "std_seeds": round(a_s["std"], 4)}
    pooled = score_labels(pooled_ref, pooled_hyp, classes, allow_unknown=allow_unknown)
    res["pooled"] = _pct(pooled)
    index = {c: i for i, c in enumerate(classes)}
    lo, hi = bootstrap_ua_ci(np.array([index[r] for r in pooled_ref]),
                             np.array([r == h for r, h in zip(pooled_ref, pooled_hyp)]),
                             len(classes), resamples=resamples, seed=ci_seed)
    res["ua_ci95"] = [round(lo * 100, 4), round(hi * 100, 4)]
    res["folds"] = fold_out
    res["seeds"] = [{"seed": s, **{k: round(float(per[k][i].mean()) * 100, 4) for k in METRIC_KEYS}}
                    for i, s in enumerate(seeds)]
    res["classes"] = list(classes)
    res["num_utts"] = len(pooled_ref)
    res["num_missing"] = len(missing)
    res["missing"] = missing
    known = set(classes)
    unknown = {u: h for u, h in zip((u for f in folds for u in f["ref"]), pooled_hyp)
               if h is not None and h not in known}
    res["num_unknown"] = len(unknown)
    res["unknown"] = unknown
    res["warnings"] = _score_warnings(res, seeds)
    res["units"] = "percent"
    res["aggregation"] = ("mean over folds of per-fold metrics (the convention); 'std' is over "
                          + ("seeds (of fold means)" if len(seeds) > 1 else "folds")
                          + " (sample std); 'pooled' scores all test utterances together"
                          + (f" (seed {seeds[0]})" if len(seeds) > 1 else "")
                          + "; ua_ci95: percentile bootstrap over utterances, "
                          + f"{resamples} resamples")
    return res


def _score_warnings(res: Dict, seeds: Sequence) -> List[str]:
    """What the numbers count as wrong without it being the system's choice of a class."""
    first = f" (seed {seeds[0]})" if len(seeds) > 1 else ""
    out = []
    if res["num_missing"]:
        out.append(f"{res['num_missing']} reference utterance(s) had no prediction{first} and "
                   "were counted as wrong (listed in `missing_utts`)")
    if res["num_unknown"]:
        counts = Counter(res["unknown"].values())
        out.append(f"{res['num_unknown']} hypothesis label(s){first} outside the class "
                   f"inventory were counted as wrong answers (--allow-unknown-labels true): "
                   + ", ".join(f"'{lab}' x{n}" for lab, n in sorted(counts.items())))
    return out


# -- outputs ------------------------------------------------------------------------------------
def write_reports(out_dir, results: Dict, *, title: str = "Results") -> None:
    """results.json, summary.md, confusion.txt, confusion.png and (if any) missing_utts."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "results.json", json.dumps(results, indent=2) + "\n")
    classes = results["classes"]
    cm = results["pooled"]["confusion"]
    atomic_write_text(out / "confusion.txt", format_confusion(cm, classes))
    plot_confusion(cm, classes, out / "confusion.png",
                   title=f"{title}: pooled over {len(results['folds'])} fold(s)")
    if results["num_missing"]:
        atomic_write_text(out / "missing_utts", "".join(u + "\n" for u in results["missing"]))
    atomic_write_text(out / "summary.md", summary_markdown(results, title=title))


def summary_markdown(r: Dict, *, title: str = "Results") -> str:
    s = r.get("settings", {})
    L = [f"# {title}", ""]
    if s:
        L += [f"- head: `{s.get('head', '?')}`, features: `{s.get('feats_scp', '?')}`",
              f"- protocol: {r.get('protocol', s.get('cv', '?'))} ({len(r['folds'])} folds); "
              f"validation: {s.get('valid', '?')}; seeds: {s.get('seeds', '?')}",
              f"- speaker independent: {'yes' if r.get('speaker_independent', True) else 'NO'}"
              + (f" ({r['speaker_note']})" if r.get("speaker_note") else ""),
              f"- command: `{s.get('command', '')}`" if s.get("command") else ""]
        if str(s.get("valid")) == "test":
            L.append("- WARNING: validation on the test fold (model selection sees test data; "
                     "optimistic, reported only for comparison with published numbers)")
    L += ["", f"{r['num_utts']} test utterances; aggregation: {r['aggregation']}.", "",
          "| metric | mean | std over folds | std over seeds | pooled |", "|---|---:|---:|---:|---:|"]
    for k in METRIC_KEYS:
        seeds_std = f"{r[k]['std_seeds']:.2f}" if len(r.get("seeds", [])) > 1 else "-"
        L.append(f"| {NAMES[k]} | {r[k]['mean']:.2f} | {r[k]['std_folds']:.2f} | {seeds_std} | "
                 f"{r['pooled'][k]:.2f} |")
    L += ["", f"UA 95 % bootstrap CI (pooled): [{r['ua_ci95'][0]:.2f}, {r['ua_ci95'][1]:.2f}]", ""]
    if r.get("warnings"):
        L += ["## Warnings", ""] + [f"- **{w}**" for w in r["warnings"]] + [""]
    L += ["## Per fold", "", "| fold | held out | test utts | WA | UA | macro-F1 | weighted-F1 | missing |",
          "|---|---|---:|---:|---:|---:|---:|---:|"]
    for f in r["folds"]:
        L.append(f"| {f['fold']} | {f.get('held_out', '')} | {f['num']} | {f['wa']:.2f} | "
                 f"{f['ua']:.2f} | {f['f1_macro']:.2f} | {f['f1_weighted']:.2f} | {f['num_missing']} |")
    if len(r.get("seeds", [])) > 1:
        L += ["", "## Per seed (mean over folds)", "", "| seed | WA | UA | macro-F1 | weighted-F1 |",
              "|---:|---:|---:|---:|---:|"]
        for x in r["seeds"]:
            L.append(f"| {x['seed']} | {x['wa']:.2f} | {x['ua']:.2f} | {x['f1_macro']:.2f} | "
                     f"{x['f1_weighted']:.2f} |")
    L += ["", "## Per-class recall (pooled)", "", "| class | support | recall |", "|---|---:|---:|"]
    for c in r["classes"]:
        rec = r["pooled"]["recall"][c]
        L.append(f"| {c} | {r['pooled']['support'][c]} | {'-' if rec is None else f'{rec:.2f}'} |")
    L += ["", "Confusion matrix: `confusion.txt`, `confusion.png`.", ""]
    return "\n".join(x for x in L if x is not None) + "\n"


def plot_confusion(confusion, classes: Sequence[str], path, *, title: str = "") -> None:
    """Counts and row percentages side by side (matplotlib, Agg backend)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols, idx = shown_columns(confusion, classes)
    cm = np.asarray(confusion, dtype=np.float64)[:, idx]
    tot = cm.sum(axis=1, keepdims=True)
    pct = np.divide(cm, tot, out=np.zeros_like(cm), where=tot > 0) * 100
    n = len(classes)
    fig, axes = plt.subplots(1, 2, figsize=(4 + 1.6 * len(cols), 1.5 + 0.8 * n), squeeze=False)
    for ax, mat, fmt, name in ((axes[0, 0], cm, "{:.0f}", "counts"),
                               (axes[0, 1], pct, "{:.1f}", "row %")):
        ax.imshow(pct, cmap="Blues", vmin=0, vmax=100)
        ax.set_xticks(range(len(cols)), labels=cols, rotation=45, ha="right")
        ax.set_yticks(range(n), labels=classes)
        ax.set_xlabel("hypothesis")
        ax.set_ylabel("reference")
        ax.set_title(name)
        for i in range(n):
            for j in range(len(cols)):
                ax.text(j, i, fmt.format(mat[i, j]), ha="center", va="center",
                        color="white" if pct[i, j] > 60 else "black", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)


# -- RESULTS.md ---------------------------------------------------------------------------------
RESULTS_HEADER = ("| date | features | model | head | protocol | WA | UA | macro-F1 | weighted-F1 "
                  "| seeds | reference | exp |\n"
                  "|---|---|---|---|---|---|---|---|---|---|---|---|\n")


def results_row(r: Dict, *, exp: str = "", reference: str = "") -> str:
    s = r.get("settings", {})
    fi = s.get("feat_info", {}) or {}
    model = str(fi.get("model") or "")
    # A layer only means something for a model's features (not fbank/logspec).
    feats = fi.get("feat_type", "") + (f" layer {fi['layer']}"
                                       if model and fi.get("layer") not in (None, "") else "")
    if fi.get("components"):   # early fusion (training/earlyfusion.py): name every set
        feats = "fusion: " + " + ".join(c.get("name", "?") for c in fi["components"])
        model = " + ".join(str((c.get("feat_info") or {}).get("model") or "-")
                          for c in fi["components"])

    def ms(k):
        return f"{r[k]['mean']:.2f} ± {r[k]['std']:.2f}"

    proto = r.get("protocol", s.get("cv", ""))
    if s.get("valid"):
        proto += f", valid {s['valid']}"
    cells = [datetime.date.today().isoformat(), feats or "?", model or "-",
             str(s.get("head", "?")), proto, ms("wa"), ms("ua"), ms("f1_macro"), ms("f1_weighted"),
             str(len(r.get("seeds", [])) or 1), reference or "", exp]
    return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |\n"


def append_results(results_json, results_md, *, reference: str = "", exp: str = "") -> str:
    p = Path(results_json)
    if not p.is_file():
        raise E2VError(f"{p}: no such results file (did training finish?)")
    try:
        r = json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise E2VError(f"{p}: not valid JSON ({e})") from None
    md = Path(results_md)
    old = md.read_text(encoding="utf-8") if md.is_file() else ""
    lines = old.rstrip("\n").splitlines()
    # Start a table unless the file already ends in ours (a recipe may add prose between runs).
    if not lines or not lines[-1].startswith("|") or RESULTS_HEADER.splitlines()[0] not in old:
        old = old.rstrip("\n") + ("\n\n" if old.strip() else "") + RESULTS_HEADER
    row = results_row(r, exp=exp or str(p.parent), reference=reference)
    atomic_write_text(md, old + row)
    return row


__all__ = ["score_folds", "write_reports", "write_predictions", "read_hypotheses",
           "check_hypothesis_labels",
           "summary_markdown", "plot_confusion", "append_results", "results_row", "METRIC_KEYS"]
