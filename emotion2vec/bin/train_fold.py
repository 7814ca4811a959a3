"""Train and test one fold of a prepared cross-validation experiment (all its seeds)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emotion2vec.bin._cli import run_main
from emotion2vec.training import foldstate

PROG = "train_fold"


def main(argv=None):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument("--fold", type=int, required=True, help="1-based fold number (JOB)")
    p.add_argument("exp_dir")
    a = p.parse_args(argv)
    # Cheap check first: a rerun should not even import torch.
    exp = Path(a.exp_dir).resolve()
    sfile = exp / "settings.json"
    settings = json.loads(sfile.read_text()) if sfile.is_file() else None
    if settings and foldstate.is_done(exp / f"fold{a.fold}", foldstate.inputs_fingerprint(exp, settings)):
        print(f"fold{a.fold}: already done ({exp / f'fold{a.fold}' / '.done'})", file=sys.stderr)
        return
    from emotion2vec.training.experiment import run_fold  # lazy: it loads torch (see above)
    run_fold(a.exp_dir, a.fold)


if __name__ == "__main__":
    run_main(main, PROG)
