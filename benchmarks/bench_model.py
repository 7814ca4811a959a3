#!/usr/bin/env python3
"""Speed and memory of our emotion2vec against the FunASR reference port, in one run.

Both models get the same random base-size weights (768-d, 12 heads, 4+8 blocks: the released
emotion2vec_base / _plus_base architecture; speed does not depend on the weights; ours loads them
with load_model from an emotion2vec+ model directory) and the same audio. On CPU each system runs
in a process of its own, set up as it ships: ours with what load_model sets (glibc's malloc
keeping freed memory, emotion2vec.memory), the reference with glibc's defaults; a third process
runs the reference given our allocator setting ("reference+alloc"), for a like-for-like view of
the computation. The processes take turns (ours, reference, ...; never two at once), so a busy
machine slows every system alike; the ratios are the figures to trust. Outputs are checked
against the reference in the same run (max abs difference, cosine for int8).

    python benchmarks/bench_model.py --quick        # a few minutes on 2 cores
    python benchmarks/bench_model.py                # full: more repetitions, 10 min long audio
    python benchmarks/bench_model.py --device cuda  # on a GPU (batched fp32/fp16/bf16)

Figures: RTF (processing seconds per audio second) for batch 1 on 10 s of audio, and for a
mixed set of 1-15 s utterances (ours: length-bucketed batches; reference: one at a time, as its
inference loop does), peak memory (RSS) of each, and for a long recording processed in windows.
The CPU's name is printed: figures from different machines (e.g. AMD Zen 4 and Zen 5, whose
fp32 matmul peaks differ by 2x) are not comparable.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from emotion2vec.models import fastpath  # noqa: E402
from emotion2vec.models.encoder import Emotion2vec, EncoderConfig  # noqa: E402
from emotion2vec.models.checkpoint import load_weights  # noqa: E402
from emotion2vec.features.batching import plan_batches  # noqa: E402
from emotion2vec.models.model import Emotion2vecModel, _no_tf32  # noqa: E402
from emotion2vec.memory import keep_freed_memory  # noqa: E402

SR = 16000
FLOP_PER_AUDIO_SECOND = 14.9e9  # base size, counted from the layer shapes


def speechlike(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    f0 = 100 + 150 * rng.random()
    x = 0.3 * np.sin(2 * np.pi * f0 * t * (1 + 0.1 * np.sin(2 * np.pi * 2.5 * t)))
    x += 0.1 * np.sin(2 * np.pi * 2.7 * f0 * t) + 0.05 * rng.standard_normal(n)
    return (x * (0.5 + 0.5 * np.abs(np.sin(2 * np.pi * 0.7 * t)))).astype(np.float32)


def build(with_reference: bool, seed: int = 0):
    """(our fp32 model, reference or None) with the same random weights."""
    if with_reference:
        from emotion2vec.testing.reference import build_reference

        ref, sd = build_reference(num_classes=9, seed=seed)
    else:
        from emotion2vec.testing.tiny import random_state_dict

        ref, sd = None, random_state_dict(EncoderConfig(num_classes=9), seed)
    sd = {k: v for k, v in sd.items() if ".decoder." not in k}
    net = Emotion2vec(EncoderConfig(num_classes=9))
    load_weights(net, sd, "random base weights")
    return Emotion2vecModel(net, labels=[str(i) for i in range(9)]), ref


def ref_extract(ref, wav: np.ndarray, device="cpu") -> np.ndarray:
    from emotion2vec.testing.reference import reference_features

    return reference_features(ref, torch.from_numpy(wav).to(device)).float().cpu().numpy()


def ours_set(model, wavs, batch_seconds):
    out = [None] * len(wavs)
    for idx in plan_batches([len(w) for w in wavs], max(1, int(batch_seconds * SR))):
        for i, f in zip(idx, model.extract([wavs[i] for i in idx])):
            out[i] = f
    return out


def with_fastpath(fn, **settings):
    """fn() with module settings of ``fastpath`` changed for the call (then restored), e.g.
    use_onednn=False (every matmul through F.linear, i.e. MKL) or
    ONEDNN_ATTENTION_MIN_TOKENS=10**9 (attention through SDPA at every length)."""
    saved = {k: getattr(fastpath, k) for k in settings}
    for k, v in settings.items():
        setattr(fastpath, k, v)
    try:
        return fn()
    finally:
        for k, v in saved.items():
            setattr(fastpath, k, v)


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device="cpu", cpu=None):
    """Wall seconds (and, into the list ``cpu``, process CPU seconds) of fn()."""
    sync(device)
    t, c = time.perf_counter(), time.process_time()
    r = fn()
    sync(device)
    if cpu is not None:
        cpu.append(time.process_time() - c)
    return time.perf_counter() - t, r


def rss_mb() -> float:
    """Current resident set size (Linux /proc), MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRSS:
    """Samples the RSS every 5 ms in a thread: peak during the ``with`` block."""

    def __enter__(self):
        import threading

        self.base = self.peak = rss_mb()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss_mb())


def child(args) -> None:
    """One peak-memory run in a fresh process (so earlier phases do not hide its peak); the
    reference with glibc's default allocator, as it runs."""
    if args.child != "ref-mixed":
        keep_freed_memory()
    torch.set_num_threads(args.threads)
    which = args.child
    model, ref = build(which == "ref-mixed")
    if which == "int8-mixed":
        model = Emotion2vecModel(model.net, labels=model.labels, precision="int8")
    wavs = mixed_set(args)
    if which == "long":
        n = int(args.long_minutes * 60 * SR)
        wav = np.concatenate([speechlike(SR * 10, seed=i) for i in range(-(-n // (SR * 10)))])[:n]
        with PeakRSS() as mem:
            t, feats = timed(lambda: model.extract_long(wav, chunk_seconds=args.chunk_seconds,
                                                        overlap_seconds=args.overlap_seconds))
        print(json.dumps({"peak_mb": mem.peak, "base_mb": mem.base, "seconds": t,
                          "frames": int(feats.shape[0])}))
        return
    with PeakRSS() as mem:
        if which == "ref-mixed":
            for w in wavs:
                ref_extract(ref, w)
        else:
            ours_set(model, wavs, args.batch_seconds)
    print(json.dumps({"peak_mb": mem.peak, "base_mb": mem.base}))


def run_child(args, which: str) -> dict:
    cmd = [sys.executable, __file__, "--child", which, "--threads", str(args.threads),
           "--mixed", str(args.mixed), "--batch-seconds", str(args.batch_seconds),
           "--long-minutes", str(args.long_minutes), "--chunk-seconds", str(args.chunk_seconds),
           "--overlap-seconds", str(args.overlap_seconds)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1:] or ["?"]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def mixed_set(args):
    rng = np.random.default_rng(1234)
    secs = rng.uniform(1.0, 15.0, size=args.mixed)
    return [speechlike(int(s * SR), seed=100 + i) for i, s in enumerate(secs)]


def cosine(a, b) -> float:
    return float(((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).mean())


def cpu_name() -> str:
    """The CPU, for telling figures from different machines apart (AMD family 25 = Zen 3/4,
    26 = Zen 5; AVX-512 or not decides which matmul kernels run)."""
    info = {}
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo"):
            k, _, v = line.partition(":")
            info.setdefault(k.strip(), v.strip())
    avx = "AVX-512" if "avx512f" in info.get("flags", "").split() else "no AVX-512"
    return (f"{info.get('model name', '?')} (family {info.get('cpu family', '?')}, model "
            f"{info.get('model', '?')}, {avx})")


def matmul_peak() -> float:
    """GFLOP/s of oneDNN's fp32 matmul (pre-packed weights, as ours runs it) on the encoder's
    main shapes at 10 s: the yardstick of the compute limit (every FLOP at matmul speed)."""
    from emotion2vec.models.fastpath import linear, prepack_weight

    # (rows, in, out): a (3, 2) conv layer's front-end block, then qkv, proj, fc1, fc2
    shapes = ((4800, 1536, 512), (510, 768, 2304), (510, 768, 768), (510, 768, 3072),
              (510, 3072, 768))
    flop = secs = 0.0
    with torch.inference_mode():
        for m, k, n in shapes:
            x, w = torch.randn(m, k), prepack_weight(torch.randn(n, k))
            for _ in range(3):
                linear(x, w)
            secs += min(timed(lambda: linear(x, w))[0] for _ in range(10))
            flop += 2.0 * m * k * n
    return flop / secs / 1e9


# Each system is timed in a process of its own, set up as it ships: ours with what load_model
# sets (glibc's malloc keeping freed memory), the reference (FunASR) with glibc's defaults.
# "reference+alloc" is the reference given our allocator setting, for a like-for-like view of
# the kernels. The processes take turns over pipes, never run at once.
WORKERS = {"ours": ("ours", "ours-mkl", "ours-sdpa", "int8"), "reference": ("reference",),
           "reference-alloc": ("reference+alloc",)}

_AUDIO = {}


def task_audio(task, args):
    """The waveforms of a timing task, made in the worker (deterministic): ("10s",) or
    ("mixed", r), the mixed set cut to new lengths for repetition r."""
    if task[0] == "10s":
        if "10s" not in _AUDIO:
            _AUDIO["10s"] = [speechlike(10 * SR, seed=7)]
        return _AUDIO["10s"]
    if "mixed" not in _AUDIO:
        _AUDIO["mixed"] = mixed_set(args)
    # every repetition cuts the utterances to new lengths (whole frames less): a corpus has
    # all-different lengths, and oneDNN compiles a kernel for each new matrix shape, which a
    # repeated length would hide
    return [w[: len(w) - 320 * (5 * task[1] + 1)] for w in _AUDIO["mixed"]]


def worker_systems(kind: str, args, ckpt: Path):
    """{system name: fn(list of waveforms) -> list of [T, D] arrays} of one worker."""
    if kind == "ours":
        from emotion2vec.models import load_model

        ours = load_model(ckpt)  # as a user loads a model (sets the allocator, see above)
        q8 = Emotion2vecModel(copy.deepcopy(ours.net), labels=ours.labels, precision="int8")
        return {"ours": lambda ws: ours_set(ours, ws, args.batch_seconds),
                "ours-mkl": lambda ws: with_fastpath(
                    lambda: ours_set(ours, ws, args.batch_seconds), use_onednn=False),
                "ours-sdpa": lambda ws: with_fastpath(
                    lambda: ours_set(ours, ws, args.batch_seconds),
                    ONEDNN_ATTENTION_MIN_TOKENS=10**9),
                "int8": lambda ws: ours_set(q8, ws, args.batch_seconds)}
    from emotion2vec.testing.reference import build_reference, save_as_plus_model

    if kind == "reference-alloc":
        keep_freed_memory()
    ref, sd = build_reference(num_classes=9, seed=args.seed)
    if kind == "reference" and not (ckpt / "model.pt").exists():
        save_as_plus_model(sd, ckpt)  # the weights ours loads
    del sd
    return {WORKERS[kind][0]: lambda ws: [ref_extract(ref, w) for w in ws]}


def worker_main(conn, kind: str, args) -> None:
    """A worker process: builds its systems, then answers timing requests until told to stop."""
    import traceback

    try:
        torch.set_num_threads(args.threads)
        systems = worker_systems(kind, args, Path(args.ckpt))
        # measured where ours runs: with the allocator as load_model set it (else every output
        # is page-faulted in anew and the matmuls look ~2x slower than they run in the model)
        conn.send({"systems": list(systems), "peak": matmul_peak() if kind == "ours" else None})
        while True:
            try:
                msg = conn.recv()
            except EOFError:  # the driving process is gone
                return
            if msg[0] == "stop":
                return
            _, name, task, want = msg
            wavs = task_audio(task, args)
            fn = systems[name]
            if task[0] == "10s":
                fn(wavs)  # each timing follows a call of the same system: its own warm state
            cpu = []
            wall, out = timed(lambda: fn(wavs), cpu=cpu)
            conn.send({"wall": wall, "cpu": cpu[0], "audio": sum(len(w) for w in wavs) / SR,
                       "out": out if want else None})
    except Exception:
        with contextlib.suppress(OSError):
            conn.send({"error": traceback.format_exc()})


class Worker:
    """The driving end of a worker process."""

    def __init__(self, ctx, kind: str, args):
        self.kind = kind
        self.conn, child_end = ctx.Pipe()
        self.proc = ctx.Process(target=worker_main, args=(child_end, kind, args), daemon=True)
        self.proc.start()
        first = self._reply()
        self.systems, self.peak = first["systems"], first["peak"]

    def _reply(self) -> dict:
        try:
            r = self.conn.recv()
        except EOFError:
            raise SystemExit(f"bench_model: the {self.kind} worker died "
                             f"(exit code {self.proc.exitcode})") from None
        if "error" in r:
            raise SystemExit(f"bench_model: the {self.kind} worker failed:\n{r['error']}")
        return r

    def time(self, name: str, task, want_output: bool = False) -> dict:
        self.conn.send(("run", name, task, want_output))
        return self._reply()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(("stop",))
        self.proc.join(30)


def main() -> None:
    import multiprocessing as mp
    import tempfile

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer repetitions, 1 min long audio")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--no-reference", action="store_true", help="skip FunASR (ours only)")
    p.add_argument("--no-reference-alloc", action="store_true",
                   help="skip the reference run with our allocator setting (reference+alloc)")
    p.add_argument("--reps", type=int, default=None, help="repetitions of the 10 s timing")
    p.add_argument("--mixed", type=int, default=None, help="utterances in the mixed set")
    p.add_argument("--batch-seconds", type=float, default=None,
                   help="padded audio per length bucket for ours on the mixed set (default: "
                        "0, i.e. one utterance at a time, on CPU, where padding costs more "
                        "than batching gains on 2 cores; 240 on CUDA)")
    p.add_argument("--long-minutes", type=float, default=None, help="long recording length")
    p.add_argument("--chunk-seconds", type=float, default=30.0)
    p.add_argument("--overlap-seconds", type=float, default=5.0)
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    args.reps = args.reps or (3 if args.quick else 10)
    args.mixed = args.mixed or (8 if args.quick else 40)
    args.long_minutes = args.long_minutes or (1.0 if args.quick else 10.0)
    if args.batch_seconds is None:
        args.batch_seconds = 240.0 if args.device.startswith("cuda") else 0.0
    if args.child:
        return child(args)
    torch.set_num_threads(args.threads)
    dev = args.device
    with_ref = not args.no_reference
    print(f"# emotion2vec benchmark: torch {torch.__version__}, {args.threads} threads, "
          f"device {dev}, {os.cpu_count()} CPUs visible, load {os.getloadavg()[0]:.1f}\n"
          f"# CPU: {cpu_name()}")
    if dev.startswith("cuda"):
        keep_freed_memory()
        ours, ref = build(with_ref, seed=args.seed)
        return cuda_bench(args, ours, ref)

    with tempfile.TemporaryDirectory(prefix="bench_model.") as tmp:
        args.ckpt = str(Path(tmp) / "weights")
        if not with_ref:
            from emotion2vec.testing.reference import save_as_plus_model
            from emotion2vec.testing.tiny import random_state_dict

            save_as_plus_model(random_state_dict(EncoderConfig(num_classes=9), args.seed),
                               args.ckpt)
        ctx = mp.get_context("spawn")  # fresh interpreters: no allocator or thread state shared
        kinds = (["reference"] if with_ref else []) + ["ours"]
        if with_ref and not args.no_reference_alloc:
            kinds.append("reference-alloc")
        workers = []
        try:
            for kind in kinds:  # the reference first: it writes the weights ours loads
                workers.append(Worker(ctx, kind, args))
            workers.sort(key=lambda w: list(WORKERS).index(w.kind))
            peak = workers[0].peak
            args.limit_rtf = FLOP_PER_AUDIO_SECOND / 1e9 / peak
            print(f"# oneDNN fp32 matmul on the encoder's shapes (in our process): {peak:.0f} "
                  f"GFLOP/s; the model's {FLOP_PER_AUDIO_SECOND / 1e9:.1f} GFLOP per audio "
                  f"second all at that speed: RTF {args.limit_rtf:.4f} (the compute limit)")
            cpu_timings(args, workers)
        finally:
            for w in workers:
                w.close()
    if not args.no_memory:
        memory_runs(args, with_ref)


def cpu_timings(args, workers) -> None:
    systems = [(w, name) for w in workers for name in w.systems]
    names = [name for _, name in systems]
    has_ref = "reference" in names

    def ratios(rtf, what):
        if not has_ref:
            return
        for base in ("reference", "reference+alloc"):
            if base in rtf:
                print(f"speed-up over {base} ({what}): " + "; ".join(
                    f"{k} {rtf[base] / rtf[k]:.2f}x"
                    for k in ("ours", "ours-mkl", "ours-sdpa", "int8") if k in rtf))

    # --- batch 1, 10 s -------------------------------------------------------------------------
    outs = {name: w.time(name, ("10s",), want_output=True)["out"][0] for w, name in systems}
    times = {k: [] for k in names}
    cpus = {k: [] for k in names}
    for _ in range(args.reps):
        for w, name in systems:
            r = w.time(name, ("10s",))
            times[name].append(r["wall"])
            cpus[name].append(r["cpu"])
    med = {k: statistics.median(v) / 10 for k, v in times.items()}
    best = {k: min(v) / 10 for k, v in times.items()}
    print("\n## batch 1, 10 s of audio (RTF, median / best of %d, interleaved, each after a "
          "warm call)" % args.reps)
    for k in names:
        print(f"{k:16s} RTF {med[k]:.4f} (best {best[k]:.4f})  "
              f"{FLOP_PER_AUDIO_SECOND / med[k] / 1e9:6.1f} GFLOP/s  "
              f"CPU s per audio s {statistics.median(cpus[k]) / 10:.4f}")
    print("(ours-mkl: ours with every matmul through F.linear, i.e. MKL, instead of oneDNN; "
          "ours-sdpa: ours with attention through SDPA instead of per-head oneDNN matmuls; "
          "reference: FunASR with glibc's default allocator, as it runs; reference+alloc: "
          "FunASR given our allocator setting)")
    ratios(med, "median")
    ratios(best, "best-of")
    print(f"ours at {args.limit_rtf / med['ours']:.0%} of the compute limit (median; best-of "
          f"{args.limit_rtf / best['ours']:.0%})")
    if has_ref:
        print(f"max |ours - reference| = {np.abs(outs['ours'] - outs['reference']).max():.2e}")
    print(f"int8 cosine to fp32 = {cosine(outs['int8'], outs['ours']):.5f}")

    # --- mixed lengths ---------------------------------------------------------------------------
    reps = 2 if args.quick else 3
    mixed = [(w, k) for w, k in systems if k not in ("ours-mkl", "ours-sdpa")]
    mt = {k: [] for _, k in mixed}
    mc = {k: [] for _, k in mixed}
    mo = {}
    for r in range(reps):
        for w, name in mixed:
            res = w.time(name, ("mixed", r), want_output=r == 0 and name != "reference+alloc")
            mt[name].append(res["wall"] / res["audio"])
            mc[name].append(res["cpu"] / res["audio"])
            if res["out"] is not None:
                mo[name] = res["out"]
            audio = res["audio"]
    mbest = {k: min(v) for k, v in mt.items()}
    print(f"\n## mixed set: {args.mixed} utterances, 1-15 s, {audio:.0f} s of audio "
          f"(ours: length-bucketed batches of <= {args.batch_seconds:g} s padded audio; "
          f"0 = one at a time; best of {reps}, each repetition on new lengths)")
    for k in mt:
        print(f"{k:16s} RTF {mbest[k]:.4f}  {FLOP_PER_AUDIO_SECOND / mbest[k] / 1e9:6.1f} GFLOP/s"
              f"  CPU s per audio s {min(mc[k]):.4f}")
    ratios(mbest, "best of each")
    if has_ref:
        diff = max(float(np.abs(a - b).max()) for a, b in zip(mo["ours"], mo["reference"]))
        print(f"max |ours - reference| over the set = {diff:.2e}")
    print(f"int8 cosine to fp32 (mean over utterances) = "
          f"{np.mean([cosine(a, b) for a, b in zip(mo['int8'], mo['ours'])]):.5f}")


def memory_runs(args, with_ref: bool) -> None:
    print("\n## peak memory (RSS of a separate process, sampled every 5 ms; "
          "+ = over the loaded model and audio)")
    runs = ["ours-mixed"] + ([] if args.quick else ["int8-mixed"])
    runs += (["ref-mixed"] if with_ref and not args.quick else []) + ["long"]
    for which in runs:
        r = run_child(args, which)
        if "error" in r:
            print(f"{which:12s} failed: {r['error']}")
            continue
        extra = ""
        if which == "long":
            extra = (f"  ({args.long_minutes:g} min in {args.chunk_seconds:g} s windows, "
                     f"{args.overlap_seconds:g} s overlap: RTF "
                     f"{r['seconds'] / (args.long_minutes * 60):.4f}, {r['frames']} frames)")
        print(f"{which:12s} peak {r['peak_mb']:7.0f} MB (+{r['peak_mb'] - r['base_mb']:.0f} MB"
              f"){extra}")


def cuda_bench(args, ours, ref) -> None:
    dev = args.device
    wav = speechlike(10 * SR, seed=7)
    wavs = mixed_set(args)
    audio = sum(len(w) for w in wavs) / SR
    net = ours.net
    results = {}
    ref_out = None
    if ref is not None:
        ref = ref.to(dev)

        def ref_run(w):  # true fp32 like ours (cuDNN would take its convolutions in TF32)
            with _no_tf32():
                return ref_extract(ref, w, dev)

        ref_out = ref_run(wav)
        torch.cuda.reset_peak_memory_stats()
        t1 = min(timed(lambda: ref_run(wav), dev)[0] for _ in range(args.reps))
        tm = min(timed(lambda: [ref_run(w) for w in wavs], dev)[0] for _ in range(2))
        results["reference fp32"] = (t1, tm, torch.cuda.max_memory_allocated() / 2**20)
        ref.cpu()
    for prec in ("fp32", "fp16", "bf16"):
        m = Emotion2vecModel(copy.deepcopy(net), labels=ours.labels, device=dev, precision=prec)
        out = m.extract([wav])[0]
        torch.cuda.reset_peak_memory_stats()
        t1 = min(timed(lambda: m.extract([wav]), dev)[0] for _ in range(args.reps))
        ours_set(m, wavs, args.batch_seconds)
        tm = min(timed(lambda: ours_set(m, wavs, args.batch_seconds), dev)[0]
                 for _ in range(2))
        results[f"ours {prec}"] = (t1, tm, torch.cuda.max_memory_allocated() / 2**20)
        if prec == "fp32":
            n = int(args.long_minutes * 60 * SR)
            long = np.concatenate([speechlike(SR * 10, seed=i) for i in range(-(-n // (SR * 10)))])
            torch.cuda.reset_peak_memory_stats()
            tl, fl = timed(lambda: m.extract_long(long[:n], chunk_seconds=args.chunk_seconds,
                                                  overlap_seconds=args.overlap_seconds), dev)
            print(f"long recording, {args.long_minutes:g} min in {args.chunk_seconds:g} s windows "
                  f"({args.overlap_seconds:g} s overlap), fp32: RTF {tl / (n / SR):.5f}, "
                  f"{fl.shape[0]} frames, peak GPU memory "
                  f"{torch.cuda.max_memory_allocated() / 2**20:.0f} MB")
        if ref_out is not None:
            print(f"ours {prec}: max |ours - reference| {np.abs(out - ref_out).max():.2e}, "
                  f"cosine {cosine(out, ref_out):.5f}")
        del m
    print(f"\n## {torch.cuda.get_device_name()}: 10 s batch 1, and mixed set "
          f"({len(wavs)} utterances, {audio:.0f} s)")
    for k, (t1, tm, mem) in results.items():
        print(f"{k:16s} RTF(10 s) {t1 / 10:.5f}  RTF(mixed) {tm / audio:.5f}  peak {mem:.0f} MB")
    if "reference fp32" in results:
        r1, rm, _ = results["reference fp32"]
        for k, (t1, tm, _) in results.items():
            if k.startswith("ours"):
                print(f"{k}: {r1 / t1:.2f}x (10 s), {rm / tm:.2f}x (mixed) vs reference")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
