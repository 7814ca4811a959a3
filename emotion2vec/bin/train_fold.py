"""Train and test one fold of a prepared cross-validation experiment (all its seeds)."""

from __future__ import annotations

import argparse
import sys

from pathlib import Path

from emotion2vec.bin._cli import run_main

PROG = "train_fold"


def main(argv=None):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument("--fold", type=int, required=True, help="1-based fold number (JOB)")
    p.add_argument("exp_dir")
    a = p.parse_args(argv)
    done = Path(a.exp_dir) / f"fold{a.fold}" / ".done"
    if done.is_file():             # cheap check first: a rerun should not even import torch
        print(f"fold{a.fold}: already done ({done})", file=sys.stderr)
        return
    from emotion2vec.training.experiment import run_fold
    run_fold(a.exp_dir, a.fold)


if __name__ == "__main__":
    run_main(main, PROG)
