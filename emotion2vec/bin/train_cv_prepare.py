"""Prepare a cross-validation experiment: check labels and features, write folds and settings.

Prints the number of folds on stdout (steps/train_cv.sh launches that many jobs).
"""

from __future__ import annotations

import argparse
import shlex
import sys

from emotion2vec.bin._cli import run_main
from emotion2vec.training.experiment import prepare

PROG = "train_cv_prepare"


def _bool(v: str) -> bool:
    if v not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"want true or false, got '{v}'")
    return v == "true"


def main(argv=None):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument("data_dir")
    p.add_argument("feat_dir")
    p.add_argument("exp_dir")
    p.add_argument("--head", required=True)
    p.add_argument("--config", default="", help="head YAML (default conf/heads/<head>.yaml)")
    p.add_argument("--cv", default="auto")
    p.add_argument("--valid", default="random:0.2")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--classes", default="")
    p.add_argument("--label-map", default="")
    p.add_argument("--normalize", default="", help="none|global|speaker (default: the config's)")
    p.add_argument("--device", default="", help="cpu|cuda|auto for PyTorch heads (default: config's)")
    p.add_argument("--class-weight", type=_bool, default=False)
    p.add_argument("--drop-unlisted", type=_bool, default=False)
    p.add_argument("--allow-speaker-overlap", type=_bool, default=False)
    p.add_argument("--command", default="", help="the user's command line, recorded")
    a = p.parse_args(argv)
    s = prepare(a.data_dir, a.feat_dir, a.exp_dir, head=a.head, config=a.config or None,
                cv=a.cv, valid=a.valid, seeds=a.seeds, seed=a.seed, classes=a.classes or None,
                label_map=a.label_map or None, normalize=a.normalize, device=a.device,
                class_weight=a.class_weight, drop_unlisted=a.drop_unlisted,
                allow_speaker_overlap=a.allow_speaker_overlap,
                command=a.command or shlex.join([PROG] + (sys.argv[1:] if argv is None else argv)))
    print(s["num_folds"])


if __name__ == "__main__":
    run_main(main, PROG)
