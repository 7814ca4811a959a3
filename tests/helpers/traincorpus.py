"""Generated corpora and features with a known structure."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

CLASSES = ["ang", "hap", "neu", "sad"]


def make_corpus(root: Path, *, sessions=3, utts_per_spk=12, dim=16, frames=(4, 12),
                granularity="frame", separation=3.0, seed=0, labels=CLASSES,
                extra_label=None):
    """A data dir (IEMOCAP-like: 2 speakers per session) and a feature dir.

    Every utterance's frames are noise plus a class-specific mean direction, so a head can
    learn the task.  Returns (data_dir, feat_dir).
    """
    import kaldi_native_io as kio

    rng = np.random.default_rng(seed)
    data, feats = root / "data", root / "feats"
    data.mkdir(parents=True)
    feats.mkdir(parents=True)
    centers = rng.normal(size=(len(labels), dim)) * separation
    rows = []
    for s in range(1, sessions + 1):
        for g in "FM":
            spk = f"Ses0{s}{g}"
            for i in range(utts_per_spk):
                lab = labels[i % len(labels)]
                if extra_label and i == 0 and s == 1 and g == "F":
                    lab = extra_label
                rows.append((f"{spk}-utt{i:03d}", spk, f"Ses0{s}", lab))
    rows.sort()
    (data / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s, _, _ in rows))
    (data / "utt2session").write_text("".join(f"{u} {se}\n" for u, _, se, _ in rows))
    (data / "utt2emo").write_text("".join(f"{u} {e}\n" for u, _, _, e in rows))
    (data / "emotions.txt").write_text("".join(c + "\n" for c in labels))
    w = kio.FloatMatrixWriter(f"ark,scp:{feats / 'feats.ark'},{feats / 'feats.scp'}")
    for u, _, _, e in rows:
        T = int(rng.integers(frames[0], frames[1] + 1))
        c = centers[labels.index(e)] if e in labels else np.zeros(dim)
        m = (rng.normal(size=(T, dim)) + c).astype(np.float32)
        if granularity == "utterance":
            m = m.mean(axis=0, keepdims=True)
        w.write(u, m)
    w.close()
    # Absolute ark paths, as the extraction step writes them.
    scp = feats / "feats.scp"
    scp.write_text(scp.read_text().replace(" feats.ark", f" {feats / 'feats.ark'}"))
    (feats / "feat_info.json").write_text(
        '{"feat_type": "emotion2vec", "model": "tiny", "layer": "last", '
        f'"granularity": "{granularity}", "dim": {dim}, "frame_rate": 50}}\n')
    return data, feats


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_entry_point(module, *args):
    """Run an entry point in this process (as `python -m emotion2vec.bin.<module>` would, exit
    status and messages included): a subprocess per call costs seconds of torch import."""
    import contextlib
    import importlib
    import io

    from emotion2vec.bin._cli import run_main
    mod = importlib.import_module(f"emotion2vec.bin.{module}")
    out, err = io.StringIO(), io.StringIO()
    old = sys.argv
    sys.argv = [module] + [str(a) for a in args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                run_main(mod.main, module)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = old
    return Result(code, out.getvalue(), err.getvalue())
