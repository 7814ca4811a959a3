"""The C allocator's setting for CPU inference: keep freed memory for reuse.

glibc's malloc hands large freed blocks back to the kernel (blocks above its dynamic mmap
threshold are unmapped; free space at the top of the heap is trimmed), so the next tensor of
that size is page-faulted in and zeroed again. The encoder allocates and frees tens of MB per
layer: by default a forward pass on 10 s of audio first-touches ~110 MB (29,000 page faults;
~6 % of the time on 2 cores), with this setting almost none. The toolkit's command-line
programs call ``keep_freed_memory()`` at start (``emotion2vec.bin._cli.run_main``) and
``load_model`` calls it for CPU models. It is what the usual CPU-inference advice (preload
jemalloc or tcmalloc) achieves, without a preload. The cost: the process keeps its peak heap
size until it exits. ``EMOTION2VEC_KEEP_FREED_MEMORY=0`` in the environment leaves glibc's
defaults alone.
"""

from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# glibc refuses an mmap threshold above HEAP_MAX_SIZE / 2, i.e. 32 MiB on 64-bit systems
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 2**30
ENV = "EMOTION2VEC_KEEP_FREED_MEMORY"

_done = None


def keep_freed_memory() -> bool:
    """Set glibc's malloc to serve blocks up to 32 MiB from its heap and to not trim the heap
    (up to 1 GiB of free space kept). Returns True when set; False, changing nothing, where the
    C library is not glibc (musl, macOS, Windows) or $EMOTION2VEC_KEEP_FREED_MEMORY is 0.
    Safe to call more than once."""
    global _done
    if _done is None:
        _done = _set()
    return _done


def _set() -> bool:
    if not sys.platform.startswith("linux") or os.environ.get(ENV, "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # glibc only; musl's mallopt does nothing
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return (mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)
