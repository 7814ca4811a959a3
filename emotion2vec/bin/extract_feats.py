"""One feature-extraction job: a (split) data dir -> `<feat-dir>/data/feats.<job>.ark/.scp`.

Called by steps/extract_feats.sh as
    $cmd JOB=1:N <feat-dir>/log/extract.JOB.log \\
        python -m emotion2vec.bin.extract_feats --job JOB --nj N [options] <sdata>/JOB <feat-dir>
after `python -m emotion2vec.bin.feat_dir init` recorded the options in <feat-dir>.
"""

from __future__ import annotations

import argparse
import os
from typing import Optional, Sequence

from emotion2vec.bin._cli import batch_seconds, run_main, true_false
from emotion2vec.features import EXTRACTORS
from emotion2vec.features import opensmile as opensmile_feats

# What the options left to None mean (emotion2vec/features/featdir.py feature_options resolves
# them; granularity None is 'utterance' for opensmile functionals, their only one).
DEFAULTS = {"granularity": "frame", "opensmile_set": opensmile_feats.DEFAULT_SET,
            "opensmile_level": opensmile_feats.DEFAULT_LEVEL}


def add_feature_options(p: argparse.ArgumentParser) -> None:
    """Options that define the feature values (recorded in <feat-dir>/options.json)."""
    p.add_argument("--feat-type", default="emotion2vec", choices=sorted(EXTRACTORS),
                   help="the extractor (default %(default)s)")
    p.add_argument("--model", default="",
                   help="emotion2vec: a name or checkpoint load_model accepts (default "
                        "emotion2vec_base); hf: a local directory or hub name")
    p.add_argument("--layer", default="last", help="last | N | all (extractors with layers)")
    p.add_argument("--granularity", default=None, choices=("frame", "utterance"),
                   help="frame ([T, D]) or utterance (mean over frames, [1, D]) (default "
                        f"{DEFAULTS['granularity']}; opensmile functionals: utterance)")
    p.add_argument("--num-mel-bins", type=int, default=0,
                   help="fbank (default 80) and logmel (default 40) bands")
    p.add_argument("--trust-remote-code", type=true_false, default=False,
                   help="hf: allow models that ship their own code")
    p.add_argument("--opensmile-set", default=None, choices=opensmile_feats.OPENSMILE_SETS,
                   help=f"opensmile: the feature set (default {DEFAULTS['opensmile_set']})")
    p.add_argument("--opensmile-level", default=None, choices=tuple(opensmile_feats.OPENSMILE_LEVELS),
                   help="opensmile: functionals (one [1, D] vector per utterance) or lld (frames "
                        f"at the set's rate, 100 Hz) (default {DEFAULTS['opensmile_level']})")


GPU_BATCH_SECONDS = 120.0  # what --batch-seconds auto means on a GPU


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    p.add_argument("--batch-seconds", default="auto",
                   help="budget of padded audio per batch, seconds; auto = one utterance at a "
                        f"time on CPU (faster there), {GPU_BATCH_SECONDS:g} on GPU")
    p.add_argument("--skip-bad", type=true_false, default=False,
                   help="list bad utterances in <feat-dir>/bad_utts and go on")


def options_from_args(args):
    from emotion2vec.features.featdir import feature_options

    return feature_options(args.feat_type, args.model or None, args.layer, args.granularity,
                           args.num_mel_bins or None, args.trust_remote_code,
                           args.opensmile_set, args.opensmile_level)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="extract_feats", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--job", type=int, required=True, help="this job's number (1-based)")
    p.add_argument("--nj", type=int, required=True, help="number of jobs")
    p.add_argument("--num-threads", type=int, default=0,
                   help="CPU threads (default: $OMP_NUM_THREADS, else the library's choice)")
    add_feature_options(p)
    add_run_options(p)
    p.add_argument("data_dir", help="the job's split of the data dir")
    p.add_argument("feat_dir")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    if not 1 <= args.job <= args.nj:
        p.error(f"--job {args.job} not in 1..{args.nj}")
    if args.num_threads > 0:
        # Before torch/BLAS load, so that they start with this many threads.
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.num_threads)
    from emotion2vec.features.featdir import run_job

    run_job(args.data_dir, args.feat_dir, args.job, args.nj, options_from_args(args),
            device=args.device, batch_seconds=batch_seconds(args.batch_seconds, args.device, GPU_BATCH_SECONDS),
            skip_bad=args.skip_bad)
    return 0


if __name__ == "__main__":
    run_main(main, "extract_feats")
