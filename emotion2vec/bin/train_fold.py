"""Train and test one fold of a prepared cross-validation experiment (all its seeds)."""

from __future__ import annotations

import argparse

from emotion2vec.bin._cli import run_main
from emotion2vec.training.experiment import run_fold

PROG = "train_fold"


def main(argv=None):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument("--fold", type=int, required=True, help="1-based fold number (JOB)")
    p.add_argument("exp_dir")
    a = p.parse_args(argv)
    run_fold(a.exp_dir, a.fold)


if __name__ == "__main__":
    run_main(main, PROG)
