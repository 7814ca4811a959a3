"""Pack trained heads into one file that `infer` (and steps/infer.sh) can use anywhere.

    python -m emotion2vec.bin.pack_model [--fold all|K] [--include-encoder] [--encoder SPEC]
        <exp-dir|fold-dir|head-dir> <model.tar.gz>
    python -m emotion2vec.bin.pack_model --show <model.tar.gz>

The file holds manifest.json (classes, feature settings, encoder reference, heads, checksums)
and the heads' weights as safetensors; --include-encoder also embeds the encoder weights
(safetensors), so the other machine needs no model download. Nothing in it is a pickle.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

from emotion2vec.bin._cli import run_main
from emotion2vec.errors import E2VError
from emotion2vec.inference import packing

PROG = "pack_model"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--fold", default="all",
                   help="folds to pack: all (default; infer averages their posteriors) or K or K1,K2")
    p.add_argument("--include-encoder", action="store_true",
                   help="embed the encoder weights (safetensors) instead of referring to it")
    p.add_argument("--encoder", help="encoder reference to record instead of the one the heads "
                   "were trained with (e.g. the released name in place of a local path)")
    p.add_argument("--show", action="store_true", help="print the manifest of a packed file")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.show:
        if len(args.paths) != 1:
            raise E2VError("--show takes one packed model file")
        m = packing.read_manifest(args.paths[0])
        json.dump({k: v for k, v in m.items() if k != "files"}, sys.stdout, indent=2,
                  ensure_ascii=False)
        print()
        return 0
    if len(args.paths) != 2:
        raise E2VError("want <exp-dir|fold-dir|head-dir> <model.tar.gz>")
    src, out = args.paths
    m = packing.pack(src, out, fold=args.fold, include_encoder=args.include_encoder,
                     encoder=args.encoder)
    enc = m["encoder"]
    if enc["type"] == "reference":
        if Path(enc["spec"]).exists():
            print(f"{PROG}: warning: the encoder is a local path ({enc['spec']}); the packed "
                  "model works only where that path exists (or with infer --encoder); "
                  "use --include-encoder or --encoder <released name>", file=sys.stderr)
    size = sum(f["size"] for f in m["files"].values())
    print(f"{PROG}: wrote {out}: {len(m['heads'])} head(s), classes {' '.join(m['classes'])}, "
          f"encoder {enc['type']}{' ' + enc['spec'] if enc.get('spec') else ''} "
          f"({size / 1e6:.1f} MB before compression)", file=sys.stderr)
    return 0


def cli() -> None:
    """Console-script entry point."""
    run_main(main, PROG)


if __name__ == "__main__":
    cli()
