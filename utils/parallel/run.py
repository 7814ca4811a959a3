#!/usr/bin/env python3
"""Kaldi-style job launcher (local back end); see docs/parallel.md or --help."""
import os
import sys

# The repository root, so this runs under any python3, with or without the project's venv.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))))

from emotion2vec.parallel.local import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
