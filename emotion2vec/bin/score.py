"""Score a prediction file against reference labels (the same code as cross-validation).

`hyp` lines are `utt label [anything...]` (# comments skipped), or one of our `predictions`
files (`utt ref hyp p...`, detected by its header).  Every reference utterance is scored: a
missing prediction counts as wrong and is listed; an utterance unknown to the reference is an
error, and so is a file with no prediction at all.  The class inventory is `--classes` if
given, else the labels of the reference (after `--label-map`, which applies to both sides); a
hypothesis label outside it is an error naming the line, unless `--allow-unknown-labels true`
(then it is a wrong answer, counted and reported).  With an output directory, writes
results.json, summary.md, confusion.{txt,png}.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from emotion2vec.bin._cli import run_main, true_false
from emotion2vec.datadir import c_sort_key, read_classes, read_kv, read_utf8
from emotion2vec.errors import E2VError
from emotion2vec.labels import read_label_map
from emotion2vec.report import (check_hypothesis_labels, read_hypotheses, score_folds,
                                write_reports)

PROG = "score"


def _inventory(a, ref):
    """(classes, description): --classes, else the reference labels; every reference label
    must be in it."""
    if a.classes:
        classes, where = read_classes(a.classes), f"--classes {a.classes}"
    else:
        classes, where = sorted(set(ref.values()), key=c_sort_key), f"the labels of {a.ref}"
    known = set(classes)
    for lineno, (u, v) in enumerate(ref.items(), 1):   # read_kv: no blank lines, so position = line
        if v not in known:
            bad = sorted({x for x in ref.values() if x not in known})
            raise E2VError(f"{a.ref}:{lineno}: utterance '{u}': reference label '{v}' is not "
                           f"in the class inventory ({where}: {' '.join(classes)}); all "
                           f"such labels: {' '.join(bad)}")
    return classes, where


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ref", help="reference utt2emo")
    p.add_argument("hyp", help="hypotheses: 'utt label ...' lines")
    p.add_argument("out_dir", nargs="?", default=None)
    p.add_argument("--classes", default="", help="class inventory (default: the reference labels)")
    p.add_argument("--label-map", default="", help="'<from> <to>' map applied to both sides")
    p.add_argument("--allow-unknown-labels", type=true_false, default=False,
                   help="true: a hypothesis label outside the inventory is a wrong answer "
                        "(counted and reported); false (default): it is an error")
    return p


def main(argv=None):
    a = build_parser().parse_args(argv)
    ref = {u: v.split()[0] for u, v in read_kv(a.ref, check_sorted=False).items()}
    if not ref:
        raise E2VError(f"{a.ref}: no reference utterances (empty file): nothing to score")
    if not Path(a.hyp).is_file():
        raise E2VError(f"{a.hyp}: no such hypothesis file")
    ours = read_utf8(a.hyp).startswith("# utt reference hypothesis")
    linenos = {}
    hyp = read_hypotheses(a.hyp, ref_in_column_2=ours, linenos=linenos)
    if a.label_map:
        m = read_label_map(a.label_map)
        ref = {u: m.get(v, v) for u, v in ref.items()}
        hyp = {u: m.get(v, v) for u, v in hyp.items()}
    classes, where = _inventory(a, ref)
    if a.label_map:
        where += f", after --label-map {a.label_map}"
    check_hypothesis_labels(hyp, classes, a.hyp, linenos=linenos, inventory=where,
                            allow_unknown=a.allow_unknown_labels,
                            hint=("" if a.classes else "if it is a real class, pass the "
                                  "inventory with --classes FILE; ")
                            + "pass --allow-unknown-labels true to count such hypotheses as "
                              "wrong answers")
    r = score_folds([{"fold": "all", "held_out": "", "ref": ref, "hyp": {0: hyp}}], classes,
                    allow_unknown=a.allow_unknown_labels)
    r["protocol"] = "external predictions"
    r["settings"] = {"ref": str(a.ref), "hyp": str(a.hyp), "classes": where,
                     "allow_unknown_labels": a.allow_unknown_labels}
    pooled = r["pooled"]
    print(f"WA {pooled['wa']:.2f}  UA {pooled['ua']:.2f}  macro-F1 {pooled['f1_macro']:.2f}  "
          f"weighted-F1 {pooled['f1_weighted']:.2f}  UA 95% CI [{r['ua_ci95'][0]:.2f}, "
          f"{r['ua_ci95'][1]:.2f}]  ({r['num_utts']} utterances, {r['num_missing']} missing"
          + (f", {r['num_unknown']} unknown labels counted wrong" if a.allow_unknown_labels
             else "") + ")")
    if r["num_missing"]:
        print(f"missing predictions (counted wrong): {' '.join(r['missing'][:10])}"
              + (" ..." if r["num_missing"] > 10 else ""))
    if r["num_unknown"]:
        shown = [f"{u}:{lab}" for u, lab in list(r["unknown"].items())[:10]]
        print(f"unknown hypothesis labels (counted wrong): {' '.join(shown)}"
              + (" ..." if r["num_unknown"] > 10 else ""))
    if a.out_dir:
        write_reports(a.out_dir, r, title=f"Scores of {a.hyp}")


if __name__ == "__main__":
    run_main(main, PROG)
