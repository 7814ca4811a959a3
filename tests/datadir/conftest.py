"""Fixtures for the data-directory tools: tiny data dirs written in real Kaldi layout."""
import os
import subprocess
from pathlib import Path
from typing import Dict, Iterable, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
UTILS = ROOT / "utils"
EMOS = ("neu", "hap", "ang", "sad")


def write_lines(path: Path, lines: Iterable[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(ln + "\n" for ln in lines))


def make_data_dir(d: Path, spks=("spk1", "spk2", "spk3"), n: int = 3, segments: bool = False,
                  emotions: bool = True, extra: bool = True, cv: bool = False,
                  prefix: str = "") -> Dict[str, str]:
    """A valid data dir: utterances `<spk>-u<i>`, a real (empty) file per wav.scp entry.
    Returns utt -> spk."""
    d.mkdir(parents=True, exist_ok=True)
    audio = d / "audio"
    audio.mkdir(exist_ok=True)
    u2s = {f"{prefix}{s}-u{i}": f"{prefix}{s}" for s in spks for i in range(1, n + 1)}
    utts = sorted(u2s)
    write_lines(d / "utt2spk", (f"{u} {u2s[u]}" for u in utts))
    spk2utt = {}
    for u in utts:
        spk2utt.setdefault(u2s[u], []).append(u)
    write_lines(d / "spk2utt", (f"{s} {' '.join(us)}" for s, us in sorted(spk2utt.items())))
    write_lines(d / "utt2emo", (f"{u} {EMOS[i % len(EMOS)]}" for i, u in enumerate(utts)))
    if emotions:
        write_lines(d / "emotions.txt", EMOS)
    if segments:
        # Two utterances a recording: <spk>-rec<k>.
        recs = {}
        seg = []
        for u in utts:
            i = int(u.rsplit("u", 1)[1])
            r = f"{u2s[u]}-rec{(i + 1) // 2}"
            start = 1.0 * ((i + 1) % 2)
            seg.append(f"{u} {r} {start:.2f} {start + 0.75:.2f}")
            recs[r] = audio / f"{r}.wav"
        write_lines(d / "segments", seg)
        write_lines(d / "wav.scp", (f"{r} {p}" for r, p in sorted(recs.items())))
        for p in recs.values():
            p.touch()
    else:
        write_lines(d / "wav.scp", (f"{u} {audio / (u + '.wav')}" for u in utts))
        for u in utts:
            (audio / f"{u}.wav").touch()
    if extra:
        write_lines(d / "utt2dur", (f"{u} {1.0 + 0.5 * (i % 3):.2f}" for i, u in enumerate(utts)))
        write_lines(d / "utt2gender", (f"{u} {'f' if u2s[u].endswith(('1', '3')) else 'm'}"
                                       for u in utts))
        write_lines(d / "utt2session", (f"{u} ses{1 + i % 2}" for i, u in enumerate(utts)))
        write_lines(d / "utt2avd", (f"{u} 2.5 3.0 {i % 5}.5" for i, u in enumerate(utts)))
        write_lines(d / "text", (f"{u} some words here" for u in utts))
    if cv:
        for k, test_spk in enumerate(spks, 1):
            write_lines(d / "cv" / f"fold{k}" / "test", (u for u in utts if u2s[u] == test_spk))
            write_lines(d / "cv" / f"fold{k}" / "train", (u for u in utts if u2s[u] != test_spk))
    return u2s


def run_tool(tool: str, *args: str, cwd: Optional[Path] = None,
             stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    """Run utils/<tool> as a user would (bash, path.sh sourced by the tool itself)."""
    env = {k: v for k, v in os.environ.items() if k not in ("E2V_PATH_DONE", "VIRTUAL_ENV")}
    return subprocess.run([str(UTILS / tool), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, input=stdin, env=env, timeout=60)


def read(path: Path) -> str:
    return Path(path).read_text()


@pytest.fixture
def data(tmp_path) -> Path:
    d = tmp_path / "data"
    make_data_dir(d)
    return d


@pytest.fixture
def segdata(tmp_path) -> Path:
    d = tmp_path / "segdata"
    make_data_dir(d, segments=True, cv=True)
    return d


@pytest.fixture
def mkdata():
    """make_data_dir(path, **options) (helpers reach tests as fixtures: no conftest imports)."""
    return make_data_dir


@pytest.fixture
def tool():
    """run_tool(name, *args, cwd=None, stdin=None) -> CompletedProcess."""
    return run_tool


@pytest.fixture
def lines():
    """write_lines(path, lines)."""
    return write_lines
