"""Shared entry-point plumbing: user errors become one line on stderr and exit status 1."""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Optional, Sequence

from emotion2vec.errors import E2VError


def true_false(v: str) -> bool:
    """argparse type of the true/false options (the values Kaldi-style scripts pass)."""
    if v not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"want true or false, got {v!r}")
    return v == "true"


def batch_seconds(value: str, device: str, gpu_default: float) -> float:
    """Resolve ``--batch-seconds``: a number, or ``auto``: one utterance at a time on CPU
    (padded batches are slower there: emotion2vec base on 2 cores, mixed 1-15 s set, RTF 0.235
    with 120 s batches vs 0.099 one at a time; `benchmarks/bench_model.py --quick --no-reference
    [--batch-seconds 120]`), ``gpu_default`` seconds of padded audio on GPUs."""
    if str(value).strip().lower() == "auto":
        return 0.0 if str(device).startswith("cpu") else float(gpu_default)
    try:
        v = float(value)
    except ValueError:
        raise E2VError(f"--batch-seconds must be a number of seconds or 'auto', got {value!r}")
    if not v >= 0:
        raise E2VError(f"--batch-seconds must be >= 0, got {value!r}")
    return v


def run_main(main: Callable[[Optional[Sequence[str]]], Optional[int]], prog: str) -> None:
    """Call `main(argv)`; an E2VError prints `prog: error: message` and exits 1."""
    from emotion2vec.memory import keep_freed_memory

    keep_freed_memory()  # before the first large allocation (see emotion2vec.memory)
    try:
        code = main(None)
    except E2VError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
