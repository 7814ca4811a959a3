"""Feature-directory bookkeeping for steps/extract_feats.sh.

    tag   [feature options]
          print the feature tag recipes name feat dirs and experiments with
          (`fbank`, `emotion2vec_emotion2vec_base`, `hf_hubert-base-ls960_l9`,
          `opensmile_ComParE_2016`, `opensmile_eGeMAPSv02_lld`: defaults resolved)
    head  [feature options]
          print the head steps/train_cv.sh picks for these features when --head is left
          (heads/defaults.py), for recipe naming
    init  [feature options] [--sdata DIR --nj N] <feat-dir>
          record the options (refuse a feat dir made with other options); print the feature
          type (defaults resolved) on one line, then the numbers of the jobs that still have
          to run (one line, space-separated; empty when none)
    merge [feature options] --nj N [--skip-bad B] [--start EPOCH] [--command TEXT]
          [--export-npy DIR] <data-dir> <feat-dir>
          merge the jobs' outputs, check every utterance has features, write feat_info.json,
          copy feats.scp and utt2num_frames into the data dir, log the totals
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from emotion2vec.bin._cli import batch_seconds, run_main
from emotion2vec.bin.extract_feats import (DEFAULTS, GPU_BATCH_SECONDS, add_feature_options,
                                           add_run_options, options_from_args)

# DEFAULTS: what the feature options left to None mean (the same options as extract_feats)
__all__ = ["DEFAULTS", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="feat_dir", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="action", required=True)
    add_feature_options(sub.add_parser("tag"))
    add_feature_options(sub.add_parser("head"))
    pi = sub.add_parser("init")
    add_feature_options(pi)
    pi.add_argument("--sdata", help="the split data dir (<sdata>/1..N)")
    pi.add_argument("--nj", type=int)
    pi.add_argument("feat_dir")
    pm = sub.add_parser("merge")
    add_feature_options(pm)
    add_run_options(pm)
    pm.add_argument("--nj", type=int, required=True)
    pm.add_argument("--start", type=float, help="when the step started (seconds since epoch)")
    pm.add_argument("--command", default="", help="the command line to record")
    pm.add_argument("--export-npy", default="", help="also write <dir>/<data-dir name>.npy ...")
    pm.add_argument("data_dir")
    pm.add_argument("feat_dir")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)

    from emotion2vec.features import featdir

    options = options_from_args(args)
    if args.action == "tag":
        print(featdir.feature_tag(options))
        return 0
    if args.action == "head":
        from emotion2vec.heads.defaults import feature_default

        print(feature_default(options["feat_type"], options["granularity"]).head)
        return 0
    if args.action == "init":
        todo = featdir.init_feat_dir(args.feat_dir, options, args.sdata, args.nj)
        print(options["feat_type"])
        print(" ".join(map(str, todo)))
        return 0
    run = {"device": args.device,
           "batch_seconds": batch_seconds(args.batch_seconds, args.device, GPU_BATCH_SECONDS),
           "skip_bad": args.skip_bad}
    recorded = featdir.json.loads((Path(args.feat_dir) / "options.json").read_text())
    if recorded != options:
        raise featdir.E2VError(f"merge: options differ from {args.feat_dir}/options.json")
    t = featdir.merge_feat_dir(args.data_dir, args.feat_dir, args.nj, skip_bad=args.skip_bad,
                               command=args.command, start=args.start, run_options=run)
    log = sys.stderr
    print(f"feat_dir: {t['num_utts']} utterances with features, {t['num_bad']} bad, "
          f"{t['audio_hours']:.4f} h of audio; {t['jobs_run']} job(s) ran, "
          f"{t['jobs_skipped']} already done", file=log)
    if t["real_time_factor"] is not None:
        print(f"feat_dir: this run: {t['audio_seconds_this_run']:.1f} s of audio in "
              f"{t['elapsed_seconds']:.1f} s: real-time factor {t['real_time_factor']:.4f} "
              f"({1 / t['real_time_factor']:.1f} audio seconds per second)", file=log)
    if t["num_bad"]:
        print(f"feat_dir: warning: {t['num_bad']} utterance(s) skipped, listed in "
              f"{args.feat_dir}/bad_utts; {args.data_dir}/feats.scp lacks them: run "
              f"utils/fix_data_dir.sh {args.data_dir}", file=log)
    if args.export_npy:
        data = Path(args.data_dir)
        emo = data / "utt2emo"
        from emotion2vec.features.npy_layout import export_npy

        npy = export_npy(args.feat_dir, args.export_npy, data.resolve().name,
                         emo if emo.is_file() else None)
        print(f"feat_dir: exported {npy} (+ .lengths" + (", .emo)" if emo.is_file() else ")"),
              file=log)
    return 0


if __name__ == "__main__":
    run_main(main, "feat_dir")
