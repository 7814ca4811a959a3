"""Score a prediction file against reference labels (the same code as cross-validation).

`hyp` lines are `utt label [anything...]` (# comments skipped), or one of our `predictions`
files (`utt ref hyp p...`, detected by its header).  Every reference utterance is scored: a
missing prediction counts as wrong and is listed; an utterance unknown to the reference is an
error.  With an output directory, writes results.json, summary.md, confusion.{txt,png}.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emotion2vec.bin._cli import run_main
from emotion2vec.datadir import read_classes, read_kv
from emotion2vec.errors import E2VError
from emotion2vec.report import read_hypotheses, score_folds, write_reports

PROG = "score"


def main(argv=None):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ref", help="reference utt2emo")
    p.add_argument("hyp", help="hypotheses: 'utt label ...' lines")
    p.add_argument("out_dir", nargs="?", default=None)
    p.add_argument("--classes", default="", help="class inventory (default: labels seen)")
    p.add_argument("--label-map", default="", help="'<from> <to>' map applied to both sides")
    a = p.parse_args(argv)
    ref = {u: v.split()[0] for u, v in read_kv(a.ref, check_sorted=False).items()}
    if not Path(a.hyp).is_file():
        raise E2VError(f"{a.hyp}: no such hypothesis file")
    with open(a.hyp, encoding="utf-8") as f:
        first = f.readline()
    ours = first.startswith("# utt reference hypothesis")
    hyp = read_hypotheses(a.hyp, ref_in_column_2=ours)
    if a.label_map:
        from emotion2vec.training.experiment import read_label_map
        m = read_label_map(a.label_map)
        ref = {u: m.get(v, v) for u, v in ref.items()}
        hyp = {u: m.get(v, v) for u, v in hyp.items()}
    if a.classes:
        classes = read_classes(a.classes)
    else:
        classes = sorted(set(ref.values()) | set(hyp.values()))
    bad = sorted({v for v in ref.values() if v not in classes})
    if bad:
        raise E2VError(f"{a.ref}: label(s) {bad} not in the class inventory {classes}")
    bad = sorted({v for v in hyp.values() if v not in classes})
    if bad:
        raise E2VError(f"{a.hyp}: label(s) {bad} not in the class inventory {classes}")
    r = score_folds([{"fold": "all", "held_out": "", "ref": ref, "hyp": {0: hyp}}], classes)
    r["protocol"] = "external predictions"
    r["settings"] = {"ref": str(a.ref), "hyp": str(a.hyp)}
    pooled = r["pooled"]
    print(f"WA {pooled['wa']:.2f}  UA {pooled['ua']:.2f}  macro-F1 {pooled['f1_macro']:.2f}  "
          f"weighted-F1 {pooled['f1_weighted']:.2f}  UA 95% CI [{r['ua_ci95'][0]:.2f}, "
          f"{r['ua_ci95'][1]:.2f}]  ({r['num_utts']} utterances, {r['num_missing']} missing)")
    if r["num_missing"]:
        print(f"missing predictions (counted wrong): {' '.join(r['missing'][:10])}"
              + (" ..." if r["num_missing"] > 10 else ""))
    if a.out_dir:
        write_reports(a.out_dir, r, title=f"Scores of {a.hyp}")


if __name__ == "__main__":
    run_main(main, PROG)
