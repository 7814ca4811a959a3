"""Late fusion of cross-validation experiments (steps/train_cv.sh): combine their test
posteriors per utterance and score the fused system with the same code as one experiment.

The experiments must test the same utterances in the same folds with the same labels and class
set (anything else is refused, naming what differs), and every test utterance needs a posterior
in each.  Writes <out-dir>/{predictions, results.json, summary.md, confusion.txt, confusion.png}
(results.json `fusion`: method, weights, seeds, each system alone).  See docs/training.md,
"Late fusion".
"""

from __future__ import annotations

import argparse
import shlex
import sys

from emotion2vec.bin._cli import run_main
from emotion2vec.training.fusion import DEFAULT_METHOD, METHODS, fuse, parse_weights

PROG = "fuse"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("exp_dirs", nargs="+", metavar="exp-dir",
                   help="experiment directories of steps/train_cv.sh (2 or more)")
    p.add_argument("out_dir", metavar="out-dir")
    p.add_argument("--weights", default="",
                   help="comma-separated weight per system, in argument order (default: equal)")
    p.add_argument("--method", default=DEFAULT_METHOD, choices=METHODS,
                   help=f"weighted arithmetic mean or renormalised geometric mean of the "
                        f"posteriors (default {DEFAULT_METHOD})")
    p.add_argument("--command", default="", help="the user's command line, recorded")
    return p


def main(argv=None):
    p = build_parser()
    a = p.parse_args(argv)
    if len(a.exp_dirs) < 2:
        p.error(f"expected at least 2 experiment directories and an output directory, got "
                f"{len(a.exp_dirs) + 1} argument(s)")
    weights = parse_weights(a.weights, len(a.exp_dirs))
    command = a.command or shlex.join([PROG] + (sys.argv[1:] if argv is None else list(argv)))
    r = fuse(a.exp_dirs, a.out_dir, weights=weights, method=a.method, command=command)
    for w in r["warnings"]:
        print(f"{PROG}: WARNING: {w}", file=sys.stderr)
    for s in r["fusion"]["systems"]:
        x = s["alone"]
        print(f"{s['exp']} (weight {s['weight']:g}): WA {x['wa']:.2f}  UA {x['ua']:.2f}  "
              f"macro-F1 {x['f1_macro']:.2f}")
    print(f"{a.out_dir}: WA {r['wa']['mean']:.2f} ± {r['wa']['std']:.2f}  "
          f"UA {r['ua']['mean']:.2f} ± {r['ua']['std']:.2f}  "
          f"macro-F1 {r['f1_macro']['mean']:.2f}  weighted-F1 {r['f1_weighted']['mean']:.2f}  "
          f"UA 95% CI [{r['ua_ci95'][0]:.2f}, {r['ua_ci95'][1]:.2f}]  ({a.method} fusion of "
          f"{len(a.exp_dirs)} systems, {r['fusion']['seeds'].split(' (')[0]}, "
          f"{len(r['folds'])} folds)")


if __name__ == "__main__":
    run_main(main, PROG)
