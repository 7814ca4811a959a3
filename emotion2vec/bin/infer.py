"""Recognise emotions in audio with an emotion2vec+ model, a trained head or a HF classifier.

    python -m emotion2vec.bin.infer --model MODEL [options] INPUT... OUT_DIR
    python -m emotion2vec.bin.infer --merge JOB_DIR... OUT_DIR

INPUT: one Kaldi data dir (its segments file is used when present), one wav.scp, or audio
files (utterance id = file name without extension). MODEL: an emotion2vec+ name / model dir /
.pt, a training experiment dir (all fold heads averaged unless --fold), a fold dir, a packed
model (steps/pack_model.sh), or a Hugging Face audio-classification model dir.
Outputs (see docs/inference.md): utt2emo, scores.jsonl, info.json, and as asked
windows/{scores.jsonl,utt2emo,segments}, timeline, embeddings.{scp,ark|npy,keys}, bad_utts.
`--merge` combines the output dirs of parallel jobs (steps/infer.sh) into OUT_DIR.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

from emotion2vec.bin._cli import batch_seconds, run_main
from emotion2vec.datadir import read_classes, read_kv, write_kv
from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_write_text
from emotion2vec.fingerprint import update_with_files, update_with_wav_scp
from emotion2vec.inference import runner, writers
from emotion2vec.inference.inputs import open_input
from emotion2vec.inference.loading import load_predictor
from emotion2vec.locks import JobLock, busy

PROG = "infer"
GPU_BATCH_SECONDS = 60.0  # what --batch-seconds auto means on a GPU


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="INPUT... OUT_DIR (or JOB_DIR... OUT_DIR with --merge)")
    p.add_argument("--model", help="model to use (see above)")
    p.add_argument("--model-type", default="auto",
                   choices=["auto", "emotion2vec", "head", "packed", "hf"],
                   help="how to read --model (default: auto-detect)")
    p.add_argument("--fold", default="all",
                   help="experiment folds to use: all (default: the mean of all their heads' "
                   "posteriors, an ensemble) or K or K1,K2")
    p.add_argument("--encoder", help="encoder to use instead of the one recorded with a trained "
                   "head (e.g. a local copy of the checkpoint on this machine)")
    p.add_argument("--feat-info", help="feat_info.json of the features a head was trained on "
                   "(default: found through the experiment's results.json)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... (default cpu)")
    p.add_argument("--segment-length", type=float, default=0.0,
                   help="score sliding windows of this many seconds (0: whole utterances)")
    p.add_argument("--segment-shift", type=float, default=0.0,
                   help="seconds between window starts (default: half the length)")
    p.add_argument("--segments", help="Kaldi segments file for a wav.scp input")
    p.add_argument("--timeline-step", type=float, default=0.1,
                   help="frame step of the smoothed timeline in seconds (default 0.1)")
    p.add_argument("--batch-seconds", default="auto",
                   help="padded audio per batch in seconds; auto (default) = one utterance at "
                        f"a time on CPU (faster there), {GPU_BATCH_SECONDS:g} on GPU")
    p.add_argument("--max-batch", type=int, default=32, help="utterances per batch (default 32)")
    p.add_argument("--buffer-seconds", type=float, default=600.0,
                   help="audio read ahead and sorted by length (default 600)")
    p.add_argument("--embeddings", default="none", choices=["none", "ark", "npy"],
                   help="also write utterance (or window) embeddings (default none)")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip unreadable/empty utterances (listed in bad_utts) instead of failing")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="allow a Hugging Face model dir to run its own Python code")
    p.add_argument("--model-window", type=float, default=0.0,
                   help="Hugging Face models trained on fixed windows (ExHuBERT: 3): score "
                   "consecutive windows of this many seconds and average (default 0: off)")
    p.add_argument("--classes", help="file of label names for a Hugging Face model whose "
                   "config has none (one per line, in class-index order)")
    p.add_argument("--model-cache", help="where a packed model is unpacked (default OUT_DIR/.model)")
    p.add_argument("--merge", action="store_true", help="merge job output dirs into OUT_DIR")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _merge(job_dirs, out_dir: Path) -> int:
    infos = []
    utt_recs, win_recs, bad = [], [], {}
    for d in job_dirs:
        d = Path(d)
        holder = busy(d / ".lock")
        if holder:
            raise E2VError(f"{d}: the job is still running ({holder})")
        if not (d / ".done").is_file() or not (d / "info.json").is_file():
            raise E2VError(f"{d}: the job did not finish (no .done marker)")
        infos.append(json.loads((d / "info.json").read_text(encoding="utf-8")))
        utt_recs += writers.read_jsonl(d / "scores.jsonl")
        if (d / "windows" / "scores.jsonl").is_file():
            win_recs += writers.read_jsonl(d / "windows" / "scores.jsonl")
        if (d / "bad_utts").is_file():
            bad.update(read_kv(d / "bad_utts", check_sorted=False))
    classes = infos[0]["classes"]
    for d, i in zip(job_dirs, infos):
        if i["classes"] != classes:
            raise E2VError(f"{d}: its classes differ from {job_dirs[0]}'s")
    out_dir.mkdir(parents=True, exist_ok=True)
    writers.finalize(out_dir, utt_recs, win_recs, classes, infos[0]["settings"]["timeline_step"])
    emb = writers.merge_embeddings([Path(d) for d in job_dirs], out_dir)
    if bad:
        write_kv(out_dir / "bad_utts", bad)
    info = dict(infos[0])
    info.update({
        "num_jobs": len(job_dirs), "num_utts": sum(i["num_utts"] for i in infos),
        "num_bad": sum(i["num_bad"] for i in infos),
        "audio_seconds": round(sum(i["audio_seconds"] for i in infos), 3),
        "elapsed_seconds": round(sum(i["elapsed_seconds"] for i in infos), 3),
        "embeddings": emb,
    })
    info.pop("input", None)
    writers.write_info(out_dir, info)
    return 0


def _signature(args, inputs, model: str) -> str:
    """What a finished run depends on: its options, its list files' bytes, the size and time
    of every audio file they read and of the model's files (emotion2vec.fingerprint).  A rerun
    with an equal signature is skipped (`.done` marker).  The options as parsed: one left
    out (steps/infer.sh passes only those set) and one set to its default are the same run."""
    options = {k: v for k, v in vars(args).items() if k != "no_progress"}
    h = hashlib.sha256(json.dumps(options, sort_keys=True).encode())
    for i in inputs:  # missing inputs fail later, clearly
        p = Path(i)
        if p.is_dir():
            if (p / "wav.scp").is_file():
                update_with_wav_scp(h, p / "wav.scp")
            for n in ("segments", "utt2dur"):
                if (p / n).is_file():
                    h.update(n.encode() + b"\0" + (p / n).read_bytes())
        elif p.is_file() and p.suffix == ".scp":
            update_with_wav_scp(h, p)
        else:
            update_with_files(h, [p])
    update_with_files(h, [model] if Path(model).exists() else [])
    return h.hexdigest()


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=f"{PROG}: %(message)s", stream=sys.stderr)
    if len(args.paths) < 2:
        raise E2VError("want at least one input and an output directory")
    *inputs, out = args.paths
    out_dir = Path(out)
    for i in inputs:  # the outputs (utt2emo, ...) would overwrite the input's own files
        if Path(i).resolve() == out_dir.resolve():
            raise E2VError(f"{out}: the output directory is the input {i}; use another one")
    if args.merge:
        return _merge(inputs, out_dir)
    if not args.model:
        raise E2VError("--model is required")

    if args.segment_shift and not args.segment_length:
        raise E2VError("--segment-shift needs --segment-length")
    if args.segment_length < 0 or args.segment_shift < 0:
        raise E2VError("--segment-length/--segment-shift must not be negative")
    argv = list(argv) if argv is not None else sys.argv[1:]
    out_dir.mkdir(parents=True, exist_ok=True)
    with JobLock(out_dir / ".lock", f"{PROG}: {out_dir}"):
        sig = _signature(args, inputs + ([args.segments] if args.segments else []), args.model)
        done = out_dir / ".done"
        if done.is_file() and done.read_text().strip() == sig and (out_dir / "info.json").is_file():
            logging.info("%s: already done with these inputs and options; skipping", out_dir)
            return 0
        done.unlink(missing_ok=True)
        writers.remove_outputs(out_dir)
        return _run_job(args, argv, inputs, out_dir, sig)


def _run_job(args, argv, inputs, out_dir: Path, sig: str) -> int:
    feat_info = None
    if args.feat_info:
        try:
            feat_info = json.loads(Path(args.feat_info).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise E2VError(f"{args.feat_info}: cannot read feature settings: {e}") from e
    # Inputs first: a typo in a path should not wait for a large model to load.
    reader, times, source = open_input(inputs, out_dir / ".input", args.segments)
    predictor = load_predictor(
        args.model, kind=args.model_type, device=args.device, fold=args.fold,
        trust_remote_code=args.trust_remote_code, model_window=args.model_window or None,
        classes=read_classes(args.classes) if args.classes else None, feat_info=feat_info,
        encoder=args.encoder,
        cache_dir=Path(args.model_cache) if args.model_cache else out_dir / ".model")
    if predictor.sample_rate != reader.sample_rate:
        reader, times, source = open_input(inputs, out_dir / ".input", args.segments,
                                           sample_rate=predictor.sample_rate)
    settings = runner.Settings(
        segment_length=args.segment_length or None, segment_shift=args.segment_shift or None,
        batch_seconds=batch_seconds(args.batch_seconds, args.device, GPU_BATCH_SECONDS),
        max_batch=args.max_batch,
        buffer_seconds=args.buffer_seconds, timeline_step=args.timeline_step,
        embeddings=None if args.embeddings == "none" else args.embeddings,
        skip_bad=args.skip_bad, progress=not args.no_progress)
    if settings.segment_length and not settings.segment_shift:
        settings.segment_shift = settings.segment_length / 2
    res = runner.run(predictor, reader, out_dir, settings, times)
    n = len(res.utt_records)
    writers.write_info(out_dir, {
        "model": predictor.describe(), "classes": list(predictor.classes),
        "settings": asdict(settings), "input": source, "num_utts": n, "num_bad": len(res.bad),
        "audio_seconds": round(res.audio_seconds, 3), "elapsed_seconds": round(res.elapsed, 3),
        "embeddings": settings.embeddings,
        "command": " ".join(["python", "-m", f"emotion2vec.bin.{PROG}"]
                            + [shlex.quote(a) for a in argv]),
    })
    writers.verify_outputs(out_dir, [r["utt"] for r in res.utt_records], res.embedded,
                           settings.embeddings)
    atomic_write_text(out_dir / ".done", sig + "\n")
    rtf = res.elapsed / res.audio_seconds if res.audio_seconds else 0.0
    logging.info("%d utterances (%.1f s of audio) in %.1f s (real-time factor %.3f); %d skipped",
                 n, res.audio_seconds, res.elapsed, rtf, len(res.bad))
    return 0


def cli() -> None:
    """Console-script entry point."""
    run_main(main, PROG)


if __name__ == "__main__":
    cli()
