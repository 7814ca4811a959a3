"""Entry point of the Kaldi-named data-directory tools in utils/ (thin; logic in emotion2vec.datadir).

    python -m emotion2vec.bin.datadir_tools <tool> [options] <args...>

<tool> is the Kaldi name: validate_data_dir.sh fix_data_dir.sh split_data.sh subset_data_dir.sh
copy_data_dir.sh combine_data.sh data_dir_stats filter_scp split_scp utt2spk_to_spk2utt
spk2utt_to_utt2spk.  Errors print `<tool>: error: <message>` and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Callable, Dict, List, Optional, Sequence

from emotion2vec import datadir as dd
from emotion2vec.bin._cli import run_main, true_false
from emotion2vec.errors import DataDirError


def _pos_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want a positive integer, got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"want a positive integer, got {s!r}")
    return v


def _logger(prog: str) -> Callable[[str], None]:
    return lambda msg: print(f"{prog}: {msg}", file=sys.stderr)


def validate(prog: str, argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog=prog, description="Check a Kaldi data directory; "
                                 "exit 1 with file:line: 'key': messages on any problem.")
    ap.add_argument("--no-wav", action="store_true", help="wav.scp neither required nor checked")
    ap.add_argument("--no-feats", action="store_true", help="feats.scp neither required nor checked")
    ap.add_argument("--no-text", action="store_true", help="text not checked")
    ap.add_argument("--classes", help="class inventory for utt2emo (default <data>/emotions.txt)")
    ap.add_argument("--require", action="append", default=[],
                    help="file that must exist (repeatable, or a comma list)")
    ap.add_argument("--no-check-paths", action="store_true",
                    help="do not check that files named in wav.scp / feats.scp exist")
    ap.add_argument("--no-spk-sort", action="store_true",
                    help="no warning for utterance ids that do not start with their speaker id")
    ap.add_argument("data")
    a = ap.parse_args(argv)
    require = [r for x in a.require for r in x.split(",") if r]
    warnings = dd.validate_data_dir(a.data, no_wav=a.no_wav, no_feats=a.no_feats,
                                    no_text=a.no_text, classes=a.classes, require=require,
                                    check_paths=not a.no_check_paths,
                                    spk_prefix_warning=not a.no_spk_sort)
    for w in warnings:
        print(f"{prog}: warning: {w}", file=sys.stderr)
    print(f"{prog}: Successfully validated data-directory {a.data}")
    return 0


def fix(prog: str, argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog=prog, description="Sort the files of a data directory and "
                                 "keep the utterances present in all of them (originals in "
                                 "<data>/.backup/); duplicates and malformed lines still fail.")
    ap.add_argument("data")
    a = ap.parse_args(argv)
    dd.fix_data_dir(a.data, log=_logger(prog))
    return 0


def split(prog: str, argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog=prog, description="Split a data directory into N parts "
                                 "<data>/split<N>/<n> (by speaker) or <data>/split<N>utt/<n>.")
    ap.add_argument("--per-utt", action="store_true", help="split per utterance, not by speaker")
    ap.add_argument("data")
    ap.add_argument("num_to_split", type=_pos_int)
    a = ap.parse_args(argv)
    dd.split_data_dir(a.data, a.num_to_split, per_utt=a.per_utt, log=_logger(prog))
    return 0


def subset(prog: str, argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(
        prog=prog, usage=f"{prog} [options] <src-data> [<num-utt>] <dest-data>",
        description="Copy a subset of a data directory (every file carried). Exactly one "
                    "selector: --utt-list, --spk-list, --first, --last, --random, --per-spk, or "
                    "<num-utt> (Kaldi's default: num-utt evenly spaced utterances).")
    ap.add_argument("--utt-list", help="file with utterance ids (first field)")
    ap.add_argument("--spk-list", help="file with speaker ids (first field)")
    ap.add_argument("--first", type=_pos_int, help="the first N utterances")
    ap.add_argument("--last", type=_pos_int, help="the last N utterances")
    ap.add_argument("--random", type=_pos_int, help="N utterances drawn at random (--seed)")
    ap.add_argument("--per-spk", type=_pos_int, help="N evenly spaced utterances per speaker")
    ap.add_argument("--seed", type=int, default=0, help="seed of --random (default 0)")
    ap.add_argument("--allow-missing", type=true_false, default=False,
                    help="true: ids of --utt-list/--spk-list not in the data are skipped "
                         "(reported), not an error")
    ap.add_argument("args", nargs="+", metavar="<src> [<num-utt>] <dest>")
    a = ap.parse_args(argv)
    spread = None
    if len(a.args) == 3:
        src, n, dest = a.args
        try:
            spread = _pos_int(n)
        except argparse.ArgumentTypeError as e:
            ap.error(f"<num-utt>: {e}")
    elif len(a.args) == 2:
        src, dest = a.args
    else:
        ap.error("want <src-data> [<num-utt>] <dest-data>")
    nsel = sum(x is not None for x in (a.utt_list, a.spk_list, a.first, a.last, a.random,
                                       a.per_spk, spread))
    if nsel != 1:
        ap.error("give exactly one of --utt-list, --spk-list, --first, --last, --random, "
                 "--per-spk, <num-utt>")
    dd.subset_data_dir(src, dest, log=_logger(prog), utt_list=a.utt_list, spk_list=a.spk_list,
                       first=a.first, last=a.last, random_n=a.random, seed=a.seed,
                       per_spk=a.per_spk, spread=spread, allow_missing=a.allow_missing)
    return 0


def copy(prog: str, argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog=prog, description="Copy a data directory (every file), "
                                 "optionally renaming utterances and speakers.")
    for opt in ("--utt-prefix", "--utt-suffix", "--spk-prefix", "--spk-suffix"):
        ap.add_argument(opt, default="")
    ap.add_argument("src")
    ap.add_argument("dest")
    a = ap.parse_args(argv)
    dd.copy_data_dir(a.src, a.dest, utt_prefix=a.utt_prefix, utt_suffix=a.utt_suffix,
                     spk_prefix=a.spk_prefix, spk_suffix=a.spk_suffix, log=_logger(prog))
    return 0


def combine(prog: str, argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog=prog, description="Combine data directories (duplicate "
                                 "utterance ids are an error).")
    ap.add_argument("--drop-partial-files", type=true_false, default=False,
                    help="true: a file that only some sources have is dropped (reported)")
    ap.add_argument("dest")
    ap.add_argument("srcs", nargs="+")
    a = ap.parse_args(argv)
    dd.combine_data_dirs(a.dest, a.srcs, drop_partial_files=a.drop_partial_files,
                         log=_logger(prog))
    return 0


def stats(prog: str, argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog=prog, description="Counts per class, speaker, session, "
                                 "gender, group, fold; durations.")
    ap.add_argument("--json", action="store_true", help="print JSON instead of tables")
    ap.add_argument("data")
    a = ap.parse_args(argv)
    st = dd.data_dir_stats(a.data)
    if a.json:
        print(json.dumps(st, indent=1))
    else:
        sys.stdout.write(dd.format_stats(st))
    return 0


def filter_scp(prog: str, argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog=prog, description="Print the lines of <in> (default stdin) "
                                 "whose field N is (--exclude: is not) an id of <id-list>.")
    ap.add_argument("--exclude", action="store_true")
    ap.add_argument("-f", dest="field", type=_pos_int, default=1,
                    help="field of <in> to match (1-based, default 1)")
    ap.add_argument("id_list")
    ap.add_argument("input", nargs="?", default="-")
    a = ap.parse_args(argv)
    if a.input == "-":
        dd.filter_scp(a.id_list, sys.stdin, sys.stdout, field=a.field, exclude=a.exclude)
    else:
        try:
            f = open(a.input, encoding="utf-8")
        except OSError as e:
            raise DataDirError(f"{a.input}: cannot open ({e.strerror})") from None
        with f:
            dd.filter_scp(a.id_list, f, sys.stdout, field=a.field, exclude=a.exclude,
                          name=a.input)
    return 0


def split_scp(prog: str, argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog=prog, description="Split <in> into contiguous parts "
                                 "<out1> ... <outN> (--utt2spk: each speaker in one part).")
    ap.add_argument("--utt2spk", help="keep each speaker's lines together")
    ap.add_argument("input")
    ap.add_argument("outputs", nargs="+")
    a = ap.parse_args(argv)
    dd.split_scp(a.input, a.outputs, utt2spk=a.utt2spk)
    return 0


def _convert(prog: str, argv: Sequence[str], what: str,
             fn: Callable[[Dict[str, str], str], Dict[str, str]]) -> int:
    ap = argparse.ArgumentParser(prog=prog, description=f"Print {what} (sorted, LC_ALL=C).")
    ap.add_argument("input", nargs="?", default="-", help="input file (default stdin)")
    a = ap.parse_args(argv)
    if a.input == "-":
        m = dd.read_kv_stream(sys.stdin, "<stdin>")
    else:
        m = dd.read_kv(a.input, check_sorted=False)
    sys.stdout.write("".join(f"{k} {v}\n" for k, v in fn(m, a.input).items()))
    return 0


def u2s_to_s2u(prog: str, argv: Sequence[str]) -> int:
    def conv(m: Dict[str, str], name: str) -> Dict[str, str]:
        for lineno, (k, v) in enumerate(m.items(), 1):
            if len(v.split()) != 1:
                raise DataDirError(f"{name}:{lineno}: '{k}': want one speaker id, got {v!r}")
        return dd.utt2spk_to_spk2utt(m)
    return _convert(prog, argv, "spk2utt made from utt2spk", conv)


def s2u_to_u2s(prog: str, argv: Sequence[str]) -> int:
    return _convert(prog, argv, "utt2spk made from spk2utt",
                    lambda m, name: dd.spk2utt_to_utt2spk(m, name))


TOOLS: Dict[str, Callable[[str, Sequence[str]], int]] = {
    "validate_data_dir.sh": validate,
    "fix_data_dir.sh": fix,
    "split_data.sh": split,
    "subset_data_dir.sh": subset,
    "copy_data_dir.sh": copy,
    "combine_data.sh": combine,
    "data_dir_stats": stats,
    "filter_scp": filter_scp,
    "split_scp": split_scp,
    "utt2spk_to_spk2utt": u2s_to_s2u,
    "spk2utt_to_utt2spk": s2u_to_u2s,
}


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in TOOLS:
        print(f"usage: python -m emotion2vec.bin.datadir_tools <tool> [args]\n"
              f"tools: {' '.join(TOOLS)}", file=sys.stderr)
        return 2
    return TOOLS[argv[0]](argv[0], argv[1:])


def _entry() -> None:
    prog = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] in TOOLS else "datadir_tools"
    try:
        run_main(main, prog)
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as Unix filters do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


if __name__ == "__main__":
    _entry()
