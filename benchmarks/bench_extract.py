#!/usr/bin/env python3
"""Throughput of steps/extract_feats.sh against the bare extractor on the same audio.

Builds a synthetic corpus (espeak-ng + sox), then for fbank and for emotion2vec at base size
(random weights, the real architecture: D=768, 12 heads, 4+8 blocks, 512-channel conv) times

  * the bare extractor, in a fresh process like the step's job: model loaded and audio
    decoded in memory before the clock starts, the same length-bucketed batches, the same
    number of threads;
  * the whole step: data-dir validation, split, job launch through run.py, audio reading,
    extraction, ark writing, merge;

and prints audio seconds per wall second and the step's overhead over the bare model.

    .venv/bin/python benchmarks/bench_extract.py [--num-utts 60] [--threads 2] [--nj 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SENTENCES = [
    "the quick brown fox jumps over the lazy dog and runs far away into the forest",
    "I cannot believe you did that again after everything we talked about yesterday",
    "what a wonderful surprise to see all of you here tonight",
    "please leave the door open when you go out in the morning",
    "nobody told me the meeting had been moved to the afternoon",
]
VOICES = [("en-us", 40), ("en+f3", 70), ("en-gb", 30), ("en+m3", 50)]


def make_corpus(root: Path, num_utts: int) -> Path:
    wav_dir, data = root / "wav", root / "data"
    wav_dir.mkdir(parents=True)
    data.mkdir()
    rows = []
    for i in range(num_utts):
        voice, pitch = VOICES[i % len(VOICES)]
        spk = f"spk{i % len(VOICES) + 1}"
        utt = f"{spk}-u{i:04d}"
        raw, wav = wav_dir / f"{utt}.raw.wav", wav_dir / f"{utt}.wav"
        text = " ".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(1 + i % 3))
        subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(raw), text], check=True)
        subprocess.run(["sox", "-R", "-V1", str(raw), "-r", "16000", "-b", "16", str(wav)], check=True)
        raw.unlink()
        rows.append((utt, spk, wav))
    rows.sort(key=lambda r: r[0].encode())
    (data / "wav.scp").write_text("".join(f"{u} {w}\n" for u, _, w in rows))
    (data / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s, _ in rows))
    spk2utt = {}
    for u, s, _ in rows:
        spk2utt.setdefault(s, []).append(u)
    (data / "spk2utt").write_text("".join(f"{s} {' '.join(us)}\n" for s, us in sorted(spk2utt.items())))
    return data


def bare(feat_type: str, data: Path, batch_seconds: float, threads: int, model=None):
    """(wall, CPU) seconds to extract every utterance of `data` with the extractor alone, in a
    fresh process like the step's job (oneDNN's kernels for each matrix shape are compiled
    anew there too); model load and audio decoding are done before the clock starts."""
    cmd = [sys.executable, __file__, "--bare-child", feat_type, "--data", str(data),
           "--threads", str(threads), "--batch-seconds", str(batch_seconds)]
    if model:
        cmd += ["--model", str(model)]
    # stderr passes through: a failing child shows its error, not just an exit status
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return r["wall"], r["cpu"]


def bare_child(args) -> None:
    from emotion2vec.memory import keep_freed_memory

    keep_freed_memory()  # as the step's job does (run_main)
    import torch

    from emotion2vec.audio import AudioReader
    from emotion2vec.features import make_extractor
    from emotion2vec.features.batching import bucketed

    torch.set_num_threads(args.threads)
    wavs = list(AudioReader(args.data))
    options = {"model": args.model} if args.model else {}
    ex = make_extractor(args.bare_child, **options)
    ex.extract([wavs[0][1][:16000]])  # warm-up
    t, c = time.perf_counter(), time.process_time()
    if ex.batched:
        budget = max(1, int(args.batch_seconds * 16000))  # as the step: 0 = one at a time
        for _ in bucketed(iter(wavs), ex.extract, budget, 8 * budget):
            pass
    else:
        for _, w in wavs:
            ex.extract([w])
    print(json.dumps({"wall": time.perf_counter() - t, "cpu": time.process_time() - c}))


def job_clock(feat_dir: Path) -> str:
    """The jobs' own time split (from their .done markers), summed over jobs."""
    total = {}
    for marker in sorted((feat_dir / "data").glob(".done.*")):
        for k, v in json.loads(marker.read_text())["seconds"].items():
            total[k] = total.get(k, 0.0) + v
    return ", ".join(f"{k} {v:.2f}" for k, v in total.items())


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def step(data: Path, feat_dir: Path, nj: int, threads: int, *args):
    """(wall, CPU) seconds of the whole step; CPU time counts every process it ran."""
    copy = data.parent / f"data_{feat_dir.name}"
    shutil.copytree(data, copy)
    t, c = time.perf_counter(), children_cpu()
    subprocess.run(["bash", str(ROOT / "steps" / "extract_feats.sh"), "--nj", str(nj),
                    "--num-threads", str(threads), *map(str, args), str(copy), str(feat_dir)],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t, children_cpu() - c


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--num-utts", type=int, default=60)
    p.add_argument("--threads", type=int, default=2, help="CPU threads (cores) to use")
    p.add_argument("--nj", type=int, default=1, help="jobs of the step (threads each: threads/nj)")
    p.add_argument("--batch-seconds", type=float, default=0.0,
                   help="padded audio per batch (default 0: one utterance at a time, the "
                        "step's CPU default)")
    p.add_argument("--repeat", type=int, default=1,
                   help="time each measurement this many times (alternating) and keep the best")
    p.add_argument("--skip-emotion2vec", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--bare-child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--model", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.bare_child:
        return bare_child(args)
    per_job = max(1, args.threads // args.nj)
    os.environ["OMP_NUM_THREADS"] = str(per_job)
    from importlib.metadata import version

    from emotion2vec.audio import AudioReader

    tmp = Path(tempfile.mkdtemp(prefix="bench_extract."))
    try:
        data = make_corpus(tmp, args.num_utts)
        audio = sum(len(w) for _, w in AudioReader(data)) / 16000
        print(f"corpus: {args.num_utts} utterances, {audio:.1f} s of audio; {args.threads} threads "
              f"({args.nj} job(s) x {per_job} thread(s)); torch {version('torch')}, "
              f"{os.cpu_count()} CPUs visible")
        rows = []

        def measure(name, feat_type, model=None):
            """Bare and step alternately, --repeat times; the fastest of each (wall, CPU)."""
            t_bare, t_step = [], []
            extra = ["--model", model, "--batch-seconds", args.batch_seconds] if model else []
            for r in range(args.repeat):
                t_bare.append(bare(feat_type, data, args.batch_seconds, per_job, model=model))
                feat_dir = tmp / f"{feat_type}{r}"
                wall, cpu = step(data, feat_dir, args.nj, per_job, "--feat-type", feat_type, *extra)
                t_step.append((wall, cpu, feat_dir))
            fastest = min(t_step)
            rows.append((name, min(t_bare), fastest[:2]))
            print(f"{feat_type} step (fastest run), inside the job(s), seconds: "
                  f"{job_clock(fastest[2])}")

        measure("fbank", "fbank")
        if not args.skip_emotion2vec:
            from emotion2vec.testing.tiny import make_tiny_checkpoint

            ckpt = make_tiny_checkpoint(tmp / "e2v_base_random.pt", fmt="state_dict",
                                        embed_dim=768, num_heads=12, depth=8, prenet_depth=4,
                                        conv_channels=512)
            measure("emotion2vec base (random weights)", "emotion2vec", str(ckpt))
        print(f"{'features':<34} {'':>5} {'bare s':>8} {'step s':>8} {'bare xRT':>9} "
              f"{'step xRT':>9} {'overhead':>9}")
        for name, tb, ts in rows:
            for i, kind in enumerate(("wall", "CPU")):
                print(f"{name if i == 0 else '':<34} {kind:>5} {tb[i]:8.2f} {ts[i]:8.2f} "
                      f"{audio / tb[i]:9.1f} {audio / ts[i]:9.1f} "
                      f"{100 * (ts[i] - tb[i]) / tb[i]:8.1f}%")
        print("xRT = audio seconds per second (wall, or CPU summed over threads and processes; "
              "CPU time is robust to other load on the machine); overhead = (step - bare) / bare; the step "
              "includes process start-ups, model loading, audio decoding and ark writing (the "
              "bare extractor runs in a fresh process too, but with its model loaded and the "
              "audio decoded in memory before its clock starts).")
        print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
