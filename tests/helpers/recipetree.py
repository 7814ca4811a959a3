"""Recipe copies in a temporary egs/ tree, and the run.sh runner."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CORPUS_VARS = ("IEMOCAP", "EMODB", "THAI_SER", "EMOBOX", "EMOBOX_AUDIO", "RAVDESS")


def make_recipe(name: str, dest: Path) -> Path:
    src = REPO / "egs" / name
    d = dest / "egs" / name
    d.mkdir(parents=True)
    # Code and configuration only: RESULTS.md is documentation, and whatever a user's own runs
    # left in the tree (data/ exp/ feats/ corpus/) must not reach the tests.
    shutil.copy2(src / "run.sh", d / "run.sh")
    for sub in ("conf", "local"):
        shutil.copytree(src / sub, d / sub)
    (d / "ser.sh").symlink_to(REPO / "egs" / "TEMPLATE" / "ser1" / "ser.sh")
    for link in ("steps", "utils", "path.sh", "cmd.sh", "db.sh"):
        if (src / link).is_symlink():
            (d / link).symlink_to(REPO / link)
    return d


def run_recipe(d: Path, *args, env=None, timeout=600) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k not in CORPUS_VARS}
    e["cmd_backend"] = "local"
    e.update(env or {})
    return subprocess.run(["./run.sh", *map(str, args)], cwd=d, env=e, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)


def kaldi_asr_dir(tmp_path):
    """A data dir as an ASR recipe leaves it: recordings + segments, text, no emotion files."""
    from helpers.lookalike import tone
    d = tmp_path / "asr" / "train"
    d.mkdir(parents=True)
    for rec in ("callA", "callB"):
        tone(tmp_path / "asr" / "wav" / f"{rec}.wav", seconds=2.0)
    (d / "wav.scp").write_text(f"callA {tmp_path}/asr/wav/callA.wav\n"
                               f"callB sox {tmp_path}/asr/wav/callB.wav -t wav - |\n")
    utts = [f"spk{s}-call{r}-{i}" for s in (1, 2) for r in "AB" for i in (1, 2)]
    (d / "segments").write_text("".join(
        f"{u} call{u[9]} {0.2 + 0.8 * int(u[-1]) - 0.8:.2f} {0.8 * int(u[-1]):.2f}\n"
        for u in utts))
    (d / "utt2spk").write_text("".join(f"{u} {u[:4]}\n" for u in utts))
    (d / "spk2utt").write_text("".join(
        f"spk{s} " + " ".join(u for u in utts if u.startswith(f"spk{s}")) + "\n" for s in (1, 2)))
    (d / "text").write_text("".join(f"{u} hello there\n" for u in utts))
    labels = tmp_path / "utt2emo"
    labels.write_text("".join(f"{u} {'sad' if i % 2 else 'ang'}\n"
                              for i, u in enumerate(reversed(utts))))  # unsorted on purpose
    return d, labels, utts
