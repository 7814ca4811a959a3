"""The layout of the original emotion2vec downstream code, exported from a feat dir:
`<name>.npy` (all frames concatenated), `<name>.lengths`, `<name>.emo`."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Optional

import numpy as np

from emotion2vec.datadir import read_kv
from emotion2vec.errors import E2VError
from emotion2vec.fileio import PathLike, atomic_write_text


def export_npy(feat_dir: PathLike, out_dir: PathLike, name: str,
               utt2emo: Optional[PathLike] = None) -> Path:
    """Write the layout of the original emotion2vec downstream code: `<name>.npy` (all frames
    concatenated in feats.scp order), `<name>.lengths` (frames per utterance) and, when labels
    exist, `<name>.emo` (`<utt>\\t<label>`)."""
    import kaldi_native_io as kio

    feat_dir, out_dir = Path(feat_dir), Path(out_dir)
    feats = read_kv(feat_dir / "feats.scp")
    frames = read_kv(feat_dir / "utt2num_frames")
    info = json.loads((feat_dir / "feat_info.json").read_text())
    labels = read_kv(utt2emo, check_sorted=False) if utt2emo else None
    if labels is not None:
        unlabelled = [u for u in feats if u not in labels]
        if unlabelled:
            raise E2VError(f"{utt2emo}: no label for {len(unlabelled)} utterance(s), e.g. "
                           f"{' '.join(unlabelled[:5])}")
    out_dir.mkdir(parents=True, exist_ok=True)
    total = sum(int(frames[u]) for u in feats)
    npy = out_dir / f"{name}.npy"
    tmp = out_dir / f".{name}.npy.tmp"
    try:
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32,
                                        shape=(total, int(info["dim"])))
        pos = 0
        reader = kio.SequentialFloatMatrixReader(f"scp:{feat_dir / 'feats.scp'}")
        try:
            for (utt, mat), expect in zip(reader, feats):
                if utt != expect or mat.shape[0] != int(frames[utt]):
                    raise E2VError(f"{feat_dir}: feats.scp and utt2num_frames disagree at {utt}")
                arr[pos:pos + len(mat)] = mat
                pos += len(mat)
        finally:
            reader.close()
        if pos != total:
            raise E2VError(f"{feat_dir}: read {pos} frames from feats.scp, expected {total}")
        arr.flush()
        del arr
        os.replace(tmp, npy)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    atomic_write_text(out_dir / f"{name}.lengths", "".join(f"{frames[u]}\n" for u in feats))
    if labels is not None:
        atomic_write_text(out_dir / f"{name}.emo", "".join(f"{u}\t{labels[u]}\n" for u in feats))
    return npy
