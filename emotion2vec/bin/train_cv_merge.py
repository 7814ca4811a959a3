"""Merge the folds of a cross-validation experiment: score, write results.json and reports.

Warnings (a class with no training utterance in a fold, missing predictions) go to stderr as
well as into results.json (`warnings`, per fold `classes_missing_in_training`) and summary.md.
"""

from __future__ import annotations

import argparse
import sys

from emotion2vec.bin._cli import run_main
from emotion2vec.training.results import merge

PROG = "train_cv_merge"


def main(argv=None):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument("exp_dir")
    p.add_argument("--title", default=None)
    a = p.parse_args(argv)
    r = merge(a.exp_dir, title=a.title)
    for w in r["warnings"]:
        print(f"{PROG}: WARNING: {w}", file=sys.stderr)
    print(f"{a.exp_dir}: WA {r['wa']['mean']:.2f} ± {r['wa']['std']:.2f}  "
          f"UA {r['ua']['mean']:.2f} ± {r['ua']['std']:.2f}  "
          f"macro-F1 {r['f1_macro']['mean']:.2f}  weighted-F1 {r['f1_weighted']['mean']:.2f}  "
          f"({r['protocol']}, {len(r['folds'])} folds"
          + (f", {r['num_missing']} MISSING predictions" if r["num_missing"] else "")
          + (f", {len(r['warnings'])} warning(s): see summary.md" if r["warnings"] else "") + ")")


if __name__ == "__main__":
    run_main(main, PROG)
