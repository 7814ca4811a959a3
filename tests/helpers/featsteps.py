"""Helpers of the feature-step tests."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STEP = ROOT / "steps" / "extract_feats.sh"


def run_step(*args, check=True, env=None):
    """Run steps/extract_feats.sh; returns the CompletedProcess (text output)."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(["bash", str(STEP), *map(str, args)], capture_output=True, text=True,
                       env=e, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"step failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def read_feats(feat_dir_or_scp):
    """{utt: numpy matrix} from a feat dir's feats.scp, read with kaldi_native_io."""
    import kaldi_native_io as kio

    p = Path(feat_dir_or_scp)
    scp = p / "feats.scp" if p.is_dir() else p
    out = {}
    reader = kio.SequentialFloatMatrixReader(f"scp:{scp}")
    for utt, mat in reader:
        out[utt] = mat.copy()
    reader.close()
    return out
