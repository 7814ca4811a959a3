"""Output files of inference: scores (JSON Lines), Kaldi label files, timeline, embeddings.

Layout of an output directory (every file written atomically):
  utt2emo                 `<utt> <label>` for every input utterance
  scores.jsonl            one JSON object per input utterance: utt, label, scores {class: p},
                          reco, start, end (seconds in the recording; start/end only when known),
                          num_windows (window mode)
  windows/scores.jsonl    window mode: one object per window (utt = window id, parent, reco,
                          start, end, label, scores)
  windows/utt2emo, windows/segments   window mode: Kaldi files keyed by window id
  timeline                `<reco> <start> <end> <label>` smoothed runs (window mode or a
                          `segments` input)
  embeddings.scp + .ark   on request: one Kaldi FloatMatrix [1, D] per scored unit
  embeddings.npy + embeddings.keys     (or, with --embeddings npy, rows in key order)
  bad_utts                `<utt> <reason>` for utterances skipped with --skip-bad
  info.json               model, classes, settings and the command
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

from emotion2vec.datadir import c_sort_key, read_kv, write_kv
from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_open, atomic_write_text
from emotion2vec.kaldi_ark import ArkWriter, run_token
from emotion2vec.inference.windows import Piece, reco_posteriors, smooth_timeline


def scores_record(utt: str, classes: Sequence[str], post: np.ndarray, **extra) -> dict:
    post = np.asarray(post, dtype=np.float64)
    rec = {"utt": utt, "label": classes[int(np.argmax(post))]}
    rec.update({k: v for k, v in extra.items() if v is not None})
    rec["scores"] = {c: round(float(p), 6) for c, p in zip(classes, post)}
    return rec


def write_jsonl(path: os.PathLike, records: Iterable[dict]) -> None:
    recs = sorted(records, key=lambda r: c_sort_key(r["utt"]))
    with atomic_open(path) as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def read_jsonl(path: os.PathLike) -> List[dict]:
    out = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError as e:
                raise E2VError(f"{path}:{lineno}: not a JSON line: {e}") from e
    return out


def _posteriors(rec: dict, classes: Sequence[str]) -> np.ndarray:
    return np.array([rec["scores"][c] for c in classes], dtype=np.float64)


def finalize(out_dir: os.PathLike, utt_records: List[dict], window_records: List[dict],
             classes: Sequence[str], timeline_step: float = 0.1) -> None:
    """Write the label files and the timeline from the score records of a run (or of merged jobs)."""
    out = Path(out_dir)
    keys = [r["utt"] for r in utt_records]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})[:5]
        raise E2VError(f"{out}: utterances scored twice: {' '.join(dup)}")
    write_jsonl(out / "scores.jsonl", utt_records)
    write_kv(out / "utt2emo", [(r["utt"], r["label"]) for r in utt_records])
    timed = window_records or [r for r in utt_records if "start" in r and "end" in r]
    if window_records:
        write_jsonl(out / "windows" / "scores.jsonl", window_records)
        write_kv(out / "windows" / "utt2emo", [(r["utt"], r["label"]) for r in window_records])
        write_kv(out / "windows" / "segments",
                 [(r["utt"], f"{r['reco']} {r['start']:.2f} {r['end']:.2f}") for r in window_records])
    if timed:
        by_reco: Dict[str, List[Piece]] = {}
        for r in timed:
            by_reco.setdefault(r["reco"], []).append(
                Piece(r["reco"], float(r["start"]), float(r["end"]), _posteriors(r, classes)))
        lines = []
        for reco in sorted(by_reco, key=c_sort_key):
            for s, e, lab in smooth_timeline(by_reco[reco], classes, timeline_step):
                lines.append(f"{reco} {s:.2f} {e:.2f} {lab}\n")
        atomic_write_text(out / "timeline", "".join(lines))


def combine_windows(parent: str, pieces: List[Piece], classes: Sequence[str], **extra) -> dict:
    """The utterance record of a windowed utterance: duration-weighted mean of its windows."""
    return scores_record(parent, classes, reco_posteriors(pieces), num_windows=len(pieces), **extra)


class EmbeddingWriter:
    """Streams utterance embeddings to disk: Kaldi ark/scp or a float32 .npy with a key list."""

    def __init__(self, out_dir: os.PathLike, fmt: str):
        if fmt not in ("ark", "npy"):
            raise E2VError(f"unknown embedding format '{fmt}' (want ark or npy)")
        self.dir = Path(out_dir).resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fmt = fmt
        self.keys: List[str] = []
        self.dim: Optional[int] = None
        if fmt == "ark":
            self._ark = ArkWriter(self.dir / "embeddings.ark")
        else:
            self._raw_path = self.dir / f".embeddings.f32.{run_token()}.tmp"
            self._raw = open(self._raw_path, "wb")

    def write(self, key: str, vec: np.ndarray) -> None:
        vec = np.asarray(vec, dtype=np.float32).reshape(-1)
        if self.dim is None:
            self.dim = vec.shape[0]
        elif vec.shape[0] != self.dim:
            raise E2VError(f"embedding of '{key}' has dimension {vec.shape[0]}, others {self.dim}")
        self.keys.append(key)
        if self.fmt == "ark":
            self._ark.write(key, vec[None, :])
        else:
            self._raw.write(vec.tobytes())

    def close(self) -> None:
        if self.fmt == "ark":
            self._ark.finish()
            write_kv(self.dir / "embeddings.scp", read_kv(self._ark.scp, check_sorted=False))
        else:
            self._raw.close()
            write_npy_from_raw([(self._raw_path, self.keys)], self.dim or 0,
                               self.dir / "embeddings.npy", self.dir / "embeddings.keys")
            os.unlink(self._raw_path)


def write_npy_from_raw(parts: Sequence, dim: int, npy: Path, keys_path: Path) -> None:
    """Rows from raw float32 files (or .npy files) -> one .npy sorted by key, chunk by chunk."""
    index = []  # (key, part number, row)
    for p, (_, keys) in enumerate(parts):
        index.extend((k, p, i) for i, k in enumerate(keys))
    index.sort(key=lambda t: c_sort_key(t[0]))
    if len({t[0] for t in index}) != len(index):
        raise E2VError(f"{npy}: duplicate embedding keys")
    srcs = []
    for path, keys in parts:
        path = Path(path)
        if path.suffix == ".npy":
            srcs.append(np.load(path, mmap_mode="r"))
        else:
            srcs.append(np.memmap(path, dtype=np.float32, mode="r", shape=(len(keys), dim))
                        if keys else np.zeros((0, dim), np.float32))
    tmp = npy.with_name(f".{npy.name}.{run_token()}.tmp.npy")
    arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(index), dim))
    for row, (_, p, i) in enumerate(index):
        arr[row] = srcs[p][i]
    arr.flush()
    del arr
    os.replace(tmp, npy)
    atomic_write_text(keys_path, "".join(f"{t[0]}\n" for t in index))


def merge_embeddings(job_dirs: Sequence[Path], out_dir: Path) -> Optional[str]:
    """Merge the jobs' embeddings (whichever format they hold) into `out_dir`."""
    if all((d / "embeddings.scp").is_file() for d in job_dirs):
        merged: "OrderedDict[str, str]" = OrderedDict()
        for d in job_dirs:
            for k, v in read_kv(d / "embeddings.scp").items():
                if k in merged:
                    raise E2VError(f"{d}/embeddings.scp: key '{k}' also in another job")
                merged[k] = v
        write_kv(out_dir / "embeddings.scp", merged)
        return "ark"
    if all((d / "embeddings.npy").is_file() for d in job_dirs):
        parts = []
        dim = 0
        for d in job_dirs:
            keys = (d / "embeddings.keys").read_text(encoding="utf-8").split()
            dim = np.load(d / "embeddings.npy", mmap_mode="r").shape[1]
            parts.append((d / "embeddings.npy", keys))
        write_npy_from_raw(parts, dim, out_dir / "embeddings.npy", out_dir / "embeddings.keys")
        return "npy"
    return None


OUTPUTS = ("utt2emo", "scores.jsonl", "info.json", "timeline", "bad_utts", "embeddings.scp",
           "embeddings.ark", "embeddings.npy", "embeddings.keys")


def remove_outputs(out_dir: os.PathLike) -> None:
    """Remove what an earlier (maybe killed) run wrote into `out_dir`, and only that: the
    files named in the layout above and the temporary files of atomic writes."""
    import shutil

    out = Path(out_dir)
    for name in OUTPUTS:
        (out / name).unlink(missing_ok=True)
    for tmp in list(out.glob(".*.tmp")) + list(out.glob(".*.tmp.npy")) + \
            list(out.glob("embeddings.*.tmp")):
        tmp.unlink(missing_ok=True)
    if (out / "windows").is_dir():
        shutil.rmtree(out / "windows")


def verify_outputs(out_dir: os.PathLike, keys: Sequence[str], embedded: Sequence[str],
                   fmt: Optional[str]) -> None:
    """Read back a finished run's outputs: every scored utterance once in scores.jsonl and
    utt2emo, every embedding readable, before the run is marked done."""
    out = Path(out_dir)
    want = sorted(keys, key=c_sort_key)
    got = [r["utt"] for r in read_jsonl(out / "scores.jsonl")]
    labels = list(read_kv(out / "utt2emo")) if want else []
    if got != want or labels != want:
        raise E2VError(f"{out}: scores.jsonl / utt2emo hold {len(got)} / {len(labels)} "
                       f"utterances, the run scored {len(want)}")
    if fmt == "ark" and embedded:
        import kaldi_native_io as kio

        reader = kio.RandomAccessFloatMatrixReader(f"scp:{out / 'embeddings.scp'}")
        try:
            missing = [k for k in embedded if k not in reader or reader[k].shape[0] != 1]
        finally:
            reader.close()
        if missing:
            raise E2VError(f"{out}/embeddings.scp: {len(missing)} embedding(s) unreadable, "
                           f"e.g. {missing[0]}")
    elif fmt == "npy" and embedded:
        n = np.load(out / "embeddings.npy", mmap_mode="r").shape[0]
        if n != len(embedded) or len((out / "embeddings.keys").read_text().split()) != n:
            raise E2VError(f"{out}: embeddings.npy / .keys hold {n} rows, the run wrote "
                           f"{len(embedded)}")


def write_info(out_dir: os.PathLike, info: Mapping) -> None:
    atomic_write_text(Path(out_dir) / "info.json", json.dumps(info, indent=2, ensure_ascii=False) + "\n")
