"""FunASR-style command line over `emotion2vec.AutoModel` (emotion2vec/automodel.py).

    e2v-generate --model iic/emotion2vec_plus_large --output-dir out a.wav b.flac
    e2v-generate ++model=iic/emotion2vec_plus_large ++input=wav.scp ++output_dir=out

Both spellings work: FunASR's `++key=value` (its option names) and `--key value`.  Prints one
JSON line per input (`key`, `labels`, `scores`; `feats` are not printed: with an output dir each
is saved as `{key}.npy`, as FunASR does).  INPUT: audio files, wav.scp / path lists, Kaldi data
dirs.
"""

from __future__ import annotations

import argparse
import json
import sys

from emotion2vec.automodel import GRANULARITIES, LABEL_NAMES
from emotion2vec.bin._cli import run_main, true_false
from emotion2vec.errors import E2VError

PROG = "e2v-generate"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", nargs="*", help="audio files, wav.scp or path lists, data dirs")
    p.add_argument("--model", default="emotion2vec_plus_large",
                   help="released id (iic/... or emotion2vec/... too), directory, .pt, experiment "
                        "dir, packed model (default emotion2vec_plus_large)")
    p.add_argument("--hub", default=None, help="hf | ms: where a missing released model comes "
                                               "from (default $EMOTION2VEC_HUB, else hf)")
    p.add_argument("--model-revision", default=None, help="hub revision to pin")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N (default cpu)")
    p.add_argument("--granularity", default="utterance", choices=GRANULARITIES)
    p.add_argument("--extract-embedding", type=true_false, default=True,
                   help="true | false: return (and save) feats (default true)")
    p.add_argument("--output-dir", default=None, help="where {key}.npy feats are written")
    p.add_argument("--batch-size-s", type=float, default=300.0,
                   help="seconds of audio per batch (default 300)")
    p.add_argument("--label-names", default="shipped", choices=LABEL_NAMES,
                   help="labels as tokens.txt ships them (default) or their English part")
    return p


def funasr_args(argv):
    """`++key=value` arguments (FunASR's spelling) as `--key value`; `input` may repeat."""
    out = []
    for a in argv:
        if not a.startswith("++"):
            out.append(a)
            continue
        k, eq, v = a[2:].partition("=")
        if not eq:
            raise E2VError(f"{a}: want ++key=value")
        out += [v] if k == "input" else [f"--{k.replace('_', '-')}", v]
    return out


def main(argv=None):
    from emotion2vec.automodel import AutoModel

    a = build_parser().parse_args(funasr_args(sys.argv[1:] if argv is None else argv))
    if not a.input:
        raise E2VError("no input (audio files, wav.scp, data dirs)")
    m = AutoModel(model=a.model, device=a.device, hub=a.hub, model_revision=a.model_revision,
                  label_names=a.label_names)
    res = m.generate(a.input if len(a.input) > 1 else a.input[0], granularity=a.granularity,
                     extract_embedding=a.extract_embedding, output_dir=a.output_dir,
                     batch_size_s=a.batch_size_s)
    for r in res:
        print(json.dumps({k: v for k, v in r.items() if k != "feats"}, ensure_ascii=False))
    return 0


def cli():
    run_main(main, PROG)


if __name__ == "__main__":
    cli()
