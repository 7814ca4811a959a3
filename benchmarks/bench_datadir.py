#!/usr/bin/env python3
"""Speed of the data-directory tools on a large synthetic data dir (prints figures; not a test).

    .venv/bin/python benchmarks/bench_datadir.py [--utts 30000] [--speakers 100]

Each figure is the wall time and the CPU time of the whole command as a user runs it (bash +
path.sh + Python start-up included); on a shared machine the CPU time is the steadier figure.
The data dir has segments, wav.scp (300 recordings), utt2spk, spk2utt,
utt2emo, utt2dur, utt2gender, utt2session, utt2avd, text and emotions.txt.
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make(d: Path, n_utts: int, n_spk: int) -> None:
    d.mkdir(parents=True)
    per = n_utts // n_spk
    emos = ["neu", "hap", "ang", "sad"]
    files = {n: [] for n in ("segments", "utt2spk", "utt2emo", "utt2dur", "utt2gender",
                             "utt2session", "utt2avd", "text")}
    recs = set()
    s2u = []
    for s in range(n_spk):
        spk = f"spk{s:04d}"
        us = []
        for i in range(per):
            u = f"{spk}-{i:05d}"
            rec = f"{spk}-rec{i // 100:03d}"
            recs.add(rec)
            us.append(u)
            files["segments"].append(f"{u} {rec} {i % 100 * 3.0:.2f} {i % 100 * 3.0 + 2.5:.2f}")
            files["utt2spk"].append(f"{u} {spk}")
            files["utt2emo"].append(f"{u} {emos[(s + i) % 4]}")
            files["utt2dur"].append(f"{u} 2.50")
            files["utt2gender"].append(f"{u} {'mf'[s % 2]}")
            files["utt2session"].append(f"{u} ses{s % 5}")
            files["utt2avd"].append(f"{u} 2.5 3.0 {i % 5}.5")
            files["text"].append(f"{u} some words of text")
        s2u.append(f"{spk} {' '.join(us)}")
    files["spk2utt"] = s2u
    files["wav.scp"] = [f"{r} sox /corpus/{r}.flac -t wav - |" for r in sorted(recs)]
    for n, ls in files.items():
        (d / n).write_text("".join(x + "\n" for x in ls))
    (d / "emotions.txt").write_text("\n".join(emos) + "\n")


def timed(*cmd: str) -> tuple:
    """(wall seconds, CPU seconds of the command and its children)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    dt = time.perf_counter() - t
    ru2 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{r.stderr}")
    return dt, (ru2.ru_utime - ru.ru_utime) + (ru2.ru_stime - ru.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--utts", type=int, default=30000)
    ap.add_argument("--speakers", type=int, default=100)
    a = ap.parse_args()
    u = ROOT / "utils"
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "big"
        make(d, a.utts, a.speakers)
        n = sum(1 for _ in open(d / "utt2spk"))
        k = min(10000, n // 3)   # a third of a small data dir
        rows = [
            ("validate_data_dir.sh", timed(u / "validate_data_dir.sh", d)),
            ("fix_data_dir.sh (clean)", timed(u / "fix_data_dir.sh", d)),
            ("split_data.sh 16 (build)", timed(u / "split_data.sh", d, 16)),
            ("split_data.sh 16 (reuse)", timed(u / "split_data.sh", d, 16)),
            ("split_data.sh --per-utt 16", timed(u / "split_data.sh", "--per-utt", d, 16)),
            (f"subset_data_dir.sh --random {k}", timed(u / "subset_data_dir.sh", "--random",
                                                        k, d, Path(tmp) / "sub")),
            ("copy_data_dir.sh --utt-prefix", timed(u / "copy_data_dir.sh", "--utt-prefix", "x-",
                                                    "--spk-prefix", "x-", d, Path(tmp) / "x")),
            ("combine_data.sh (2 x all)", timed(u / "combine_data.sh", Path(tmp) / "all", d,
                                                Path(tmp) / "x")),
            ("data_dir_stats", timed(u / "data_dir_stats", d)),
        ]
    print(f"{n} utterances, {a.speakers} speakers, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    w = max(len(r[0]) for r in rows)
    print(f"  {'tool'.ljust(w)}  {'wall':>7}  {'cpu':>7}")
    for name, (dt, cpu) in rows:
        print(f"  {name.ljust(w)}  {dt:6.2f}s  {cpu:6.2f}s")


if __name__ == "__main__":
    main()
