"""Append one row for an experiment to a recipe's RESULTS.md table (header made if new)."""

from __future__ import annotations

import argparse

from emotion2vec.bin._cli import run_main
from emotion2vec.report import append_results

PROG = "append_results"


def main(argv=None):
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument("results_json")
    p.add_argument("results_md")
    p.add_argument("--reference", default="", help="published numbers to show beside ours")
    p.add_argument("--exp", default="", help="experiment name shown in the row")
    a = p.parse_args(argv)
    print(append_results(a.results_json, a.results_md, reference=a.reference, exp=a.exp), end="")


if __name__ == "__main__":
    run_main(main, PROG)
