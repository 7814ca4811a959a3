"""Prepare a cross-validation experiment: check labels and features, write folds and settings.

Prints the number of folds on stdout (steps/train_cv.sh launches that many jobs).
"""

from __future__ import annotations

import argparse
import shlex
import sys

from emotion2vec.bin._cli import run_main, true_false
from emotion2vec.heads.registry import default_valid_text
from emotion2vec.training.experiment import DEFAULTS, prepare

PROG = "train_cv_prepare"


def main(argv=None):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument("data_dir")
    p.add_argument("feat_dir", help="feature directory, or several joined by ',' (early fusion: "
                                    "pooled per set, concatenated per utterance)")
    p.add_argument("exp_dir")
    # Options left out (None) take prepare()'s defaults, the one home of each (DEFAULTS; the
    # head's from heads/defaults.py, the validation split's from the head class).
    d = DEFAULTS
    p.add_argument("--head", help="head name (default: the one heads/defaults.py names for the "
                                  "feature type and granularity)")
    p.add_argument("--config", default="",
                   help="head YAML (default: the package's emotion2vec/heads/conf/<head>.yaml)")
    p.add_argument("--cv", help=f"fold protocol (default {d['cv']})")
    p.add_argument("--valid", help=f"validation set of each fold (default: the head's: "
                                   f"{default_valid_text()})")
    p.add_argument("--seeds", type=int, help=f"training runs per fold (default {d['seeds']})")
    p.add_argument("--seed", type=int, help=f"first seed (default {d['seed']})")
    p.add_argument("--classes", default="")
    p.add_argument("--label-map", default="")
    p.add_argument("--normalize", default="", help="none|global|speaker (default: the config's)")
    p.add_argument("--pooling", default="",
                   help="utterance heads: statistics over frames, e.g. mean+std, functionals "
                        "(default: the config's)")
    p.add_argument("--device", default="", help="cpu|cuda|auto for PyTorch heads (default: config's)")
    p.add_argument("--class-weight", type=true_false,
                   help="true|false: class-balanced weights (default: the config's)")
    for opt in ("drop_unlisted", "allow_speaker_overlap"):
        p.add_argument("--" + opt.replace("_", "-"), type=true_false,
                       help=f"true|false (default {str(d[opt]).lower()})")
    p.add_argument("--command", default="", help="the user's command line, recorded")
    a = p.parse_args(argv)
    given = {k: v for k, v in vars(a).items() if k in DEFAULTS and v is not None}
    s = prepare(a.data_dir, a.feat_dir, a.exp_dir, head=a.head or None, config=a.config or None,
                valid=a.valid or None, classes=a.classes or None, label_map=a.label_map or None,
                normalize=a.normalize, pooling=a.pooling, class_weight=a.class_weight,
                device=a.device, **given,
                command=a.command or shlex.join([PROG] + (sys.argv[1:] if argv is None else argv)))
    print(s["num_folds"])


if __name__ == "__main__":
    run_main(main, PROG)
