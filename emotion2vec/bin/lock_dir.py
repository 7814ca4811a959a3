"""Lock an output directory for a step's shell: refuse when another run holds it.

    exec {fd}<>"$dir/.lock"
    python -m emotion2vec.bin.lock_dir --fd "$fd" --pid $$ --command "$cmdline" "$dir"

The lock stays with the shell's descriptor until the shell (and every process that inherited
the descriptor) exits; see emotion2vec.locks.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emotion2vec.bin._cli import run_main

PROG = "lock_dir"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fd", type=int, required=True, help="the shell's descriptor of <dir>/.lock")
    p.add_argument("--pid", type=int, required=True, help="the step's process id ($$)")
    p.add_argument("--command", default="", help="the step's command line (shown to others)")
    p.add_argument("dir")
    a = p.parse_args(argv)
    from emotion2vec.locks import lock_fd

    lock_fd(a.fd, Path(a.dir) / ".lock", a.pid, a.command, what=a.dir)
    return 0


if __name__ == "__main__":
    run_main(main, PROG)
