"""Features for training: a validated view of `<feat-dir>/feats.scp`, read lazily.

Every utterance is a Kaldi FloatMatrix [T, D] (frame level) or [1, D] (utterance level).
Plain binary float matrices (what the extraction step writes) are read straight from the ark
file at their offset with one `pread`-style call per utterance, so a fold of 1.3 M frames never
sits in RAM at once and nothing is memory-mapped into the process.  Any other entry
(compressed, double, text ark, ranges) is converted once, with kaldi_native_io, into a plain
float ark in the experiment directory (`convert_to_plain`).
"""

from __future__ import annotations

import json
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from emotion2vec.datadir import read_kv
from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_write_text
from emotion2vec.training.expdir import log

_HEADER = 15  # "\0B" "FM " "\4" int32 rows "\4" int32 cols


@dataclass(frozen=True)
class Entry:
    ark: str
    data_offset: int   # byte offset of the float32 data
    rows: int
    cols: int


def _parse_spec(spec: str):
    m = re.fullmatch(r"(.+):(\d+)", spec)
    if not m or spec.endswith("|") or "[" in spec:
        return None
    return m.group(1), int(m.group(2))


def _plain_header(f, offset: int):
    """(rows, cols) if a plain little-endian binary FloatMatrix starts at `offset`, else None."""
    f.seek(offset)
    h = f.read(_HEADER)
    if len(h) < _HEADER or h[:2] != b"\0B" or h[2:5] != b"FM " or h[5] != 4 or h[10] != 4:
        return None
    rows, = struct.unpack("<i", h[6:10])
    cols, = struct.unpack("<i", h[11:15])
    return rows, cols


def read_feat_info(feat_dir) -> Dict:
    """`feat_info.json` beside feats.scp, or {} when absent (it is optional)."""
    p = Path(feat_dir) / "feat_info.json"
    if not p.is_file():
        return {}
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise E2VError(f"{p}: not valid JSON ({e})") from None


class FeatureSet:
    """Random access to the features of given utterances, validated up front.

    `FeatureSet(scp, utts)` checks every scp entry of `utts` (utterance present, ark file
    present, a plain float matrix at the offset, data inside the file, one dimension for all)
    and fails naming the utterance.  `needs_conversion` lists entries that are not plain
    float matrices; open the converted scp instead (see `convert_to_plain`).
    """

    def __init__(self, scp, utts: Optional[Sequence[str]] = None, *, check_finite: bool = True):
        self.scp = Path(scp)
        table = read_kv(self.scp, check_sorted=False, ncols=1)
        if utts is None:
            utts = list(table)
        missing = [u for u in utts if u not in table]
        if missing:
            raise E2VError(f"{self.scp}: no features for {len(missing)} of {len(utts)} "
                           f"utterance(s), e.g. '{missing[0]}' (feature directory from another "
                           "data set, or extraction incomplete?)")
        self.utts = list(utts)
        self.check_finite = check_finite
        self.entries: Dict[str, Entry] = {}
        self.needs_conversion: List[str] = []
        sizes: Dict[str, int] = {}
        handles = {}
        try:
            for u in self.utts:
                spec = table[u]
                parsed = _parse_spec(spec)
                if parsed is None:
                    self.needs_conversion.append(u)
                    continue
                ark, off = parsed
                if ark not in handles:
                    if not os.path.isfile(ark):
                        raise E2VError(f"{self.scp}: utterance '{u}': ark file {ark} not found")
                    handles[ark] = open(ark, "rb")
                    sizes[ark] = os.path.getsize(ark)
                f = handles[ark]
                if off >= sizes[ark]:
                    raise E2VError(f"{self.scp}: utterance '{u}': offset {off} is past the end "
                                   f"of {ark} ({sizes[ark]} bytes; truncated or wrong ark?)")
                rc = _plain_header(f, off)
                if rc is None:
                    f.seek(off)
                    head = f.read(64)
                    if head[:2] == b"\0B" or head.lstrip()[:1] == b"[":
                        self.needs_conversion.append(u)   # compressed / double / text matrix
                        continue
                    raise E2VError(f"{self.scp}: utterance '{u}': {ark}:{off} does not point at "
                                   "a Kaldi matrix (corrupt scp or ark)")
                rows, cols = rc
                end = off + _HEADER + rows * cols * 4
                if rows <= 0 or cols <= 0 or end > sizes[ark]:
                    raise E2VError(f"{self.scp}: utterance '{u}': matrix {rows}x{cols} at "
                                   f"{ark}:{off} runs past the end of the file ({sizes[ark]} "
                                   "bytes; truncated ark?)")
                self.entries[u] = Entry(ark, off + _HEADER, rows, cols)
        finally:
            for f in handles.values():
                f.close()
        dims = {e.cols for e in self.entries.values()}
        if len(dims) > 1:
            d0 = next(iter(self.entries.values())).cols
            odd = next(u for u, e in self.entries.items() if e.cols != d0)
            raise E2VError(f"{self.scp}: utterances have different dimensions ({sorted(dims)}), "
                           f"e.g. '{odd}' has {self.entries[odd].cols}, "
                           f"'{self.utts[0]}' {d0}")
        self.dim = dims.pop() if dims else None
        self._files: Dict[str, object] = {}

    # -- access ---------------------------------------------------------------------------------
    def num_frames(self, utt: str) -> int:
        return self.entries[utt].rows

    def _file(self, ark: str):
        f = self._files.get(ark)
        if f is None:
            f = self._files[ark] = open(ark, "rb")
        return f

    def __getitem__(self, utt: str) -> np.ndarray:
        """The [T, D] float32 matrix of `utt` (a fresh array; nothing stays mapped)."""
        if utt in self.needs_conversion:
            raise E2VError(f"{self.scp}: utterance '{utt}' is not a plain float matrix; "
                           "convert the feature set first")
        e = self.entries[utt]
        f = self._file(e.ark)
        f.seek(e.data_offset)
        a = np.fromfile(f, dtype="<f4", count=e.rows * e.cols)
        if a.size != e.rows * e.cols:
            raise E2VError(f"{e.ark}: utterance '{utt}': short read (file changed or truncated)")
        a = a.reshape(e.rows, e.cols)
        if self.check_finite and not np.isfinite(a).all():
            raise E2VError(f"{self.scp}: utterance '{utt}': features contain NaN or Inf")
        return a

    def get(self, utts: Sequence[str]) -> List[np.ndarray]:
        return [self[u] for u in utts]

    def __iter__(self) -> Iterator[np.ndarray]:
        for u in self.utts:
            yield self[u]

    def pooled(self, utts: Optional[Sequence[str]] = None) -> np.ndarray:
        """Utterance features [N, D]: mean over frames (a [1, D] entry is its own mean)."""
        utts = self.utts if utts is None else utts
        out = np.empty((len(utts), self.dim), dtype=np.float32)
        for i, u in enumerate(utts):
            out[i] = self[u].mean(axis=0, dtype=np.float64)
        return out

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_files"] = {}
        return d


def open_feature_dir(feat_dir, utts: Sequence[str], plain_dir):
    """(FeatureSet, the scp training reads, feat_info, level) of a feature directory: every
    utterance of `utts` must have a readable entry; entries that are not plain float matrices
    are converted once into `plain_dir`.  level: 'utterance' when every entry is one row."""
    feat_dir, plain_dir = Path(feat_dir), Path(plain_dir)
    scp = feat_dir / "feats.scp"
    feat_info = read_feat_info(feat_dir)
    fs = FeatureSet(scp, utts, check_finite=False)
    if fs.needs_conversion:
        log(f"{len(fs.needs_conversion)} feature entries of {scp} are not plain float matrices: "
            f"converting them once into {plain_dir}")
        scp = convert_to_plain(scp, utts, plain_dir)
        fs = FeatureSet(scp, utts, check_finite=False)
    level = "frame" if max(fs.num_frames(u) for u in utts) > 1 else "utterance"
    return fs, scp, feat_info, level


def scp_arks(scp) -> List[str]:
    """The ark files the entries of a feats.scp point at (sorted, distinct)."""
    text = Path(scp).read_text(encoding="utf-8", errors="replace")
    return sorted({line.split(maxsplit=1)[1].rsplit(":", 1)[0]
                   for line in text.splitlines() if len(line.split(maxsplit=1)) == 2})


def write_plain(out_dir, items: Iterable[Tuple[str, np.ndarray]]) -> Path:
    """Write (utterance, [T, D] matrix) items as plain float matrices into
    `out_dir/feats.{ark,scp}`.  The ark is written under a temporary name first: the scp
    appears (or changes) only when the ark is complete."""
    import kaldi_native_io as kio

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ark, scp_out = out_dir / "feats.ark", out_dir / "feats.scp"
    tmp_ark, tmp_scp = out_dir / ".feats.ark.tmp", out_dir / ".feats.scp.tmp"
    writer = kio.FloatMatrixWriter(f"ark,scp:{tmp_ark},{tmp_scp}")
    try:
        for u, m in items:
            writer.write(u, np.ascontiguousarray(m, dtype=np.float32))
    finally:
        writer.close()
    # The writer recorded the temporary ark name; point the scp at the final one.
    lines = open(tmp_scp, encoding="utf-8").read().replace(str(tmp_ark), str(ark.resolve()))
    os.replace(tmp_ark, ark)
    atomic_write_text(scp_out, lines)
    os.unlink(tmp_scp)
    return scp_out


def convert_to_plain(scp, utts: Sequence[str], out_dir) -> Path:
    """Write the `utts` of `scp` as plain float matrices into `out_dir/feats.{ark,scp}`
    (write_plain), read with kaldi_native_io (it understands compressed, double and text
    matrices)."""
    import kaldi_native_io as kio

    table = read_kv(scp, check_sorted=False, ncols=1)
    reader = kio.RandomAccessFloatMatrixReader(f"scp:{scp}")

    def matrices():
        for u in utts:
            try:
                m = np.array(reader[u], dtype=np.float32)  # copy while the reader is alive
            except Exception as e:  # noqa: BLE001 - kaldi_native_io raises plain RuntimeErrors
                raise E2VError(f"{scp}: utterance '{u}': cannot read '{table[u]}' ({e})") from None
            if m.ndim != 2 or m.size == 0:
                raise E2VError(f"{scp}: utterance '{u}': empty or malformed matrix")
            yield u, m

    try:
        return write_plain(out_dir, matrices())
    finally:
        reader.close()


__all__ = ["FeatureSet", "Entry", "convert_to_plain", "write_plain", "open_feature_dir",
           "scp_arks", "read_feat_info"]
