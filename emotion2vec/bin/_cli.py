"""Shared entry-point plumbing: user errors become one line on stderr and exit status 1."""

from __future__ import annotations

import sys
from typing import Callable, Optional, Sequence

from emotion2vec.errors import E2VError


def run_main(main: Callable[[Optional[Sequence[str]]], Optional[int]], prog: str) -> None:
    """Call `main(argv)`; an E2VError prints `prog: error: message` and exits 1."""
    try:
        code = main(None)
    except E2VError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
