#!/usr/bin/env bash
# Stage 0 of egs/custom: a checked copy of your Kaldi data dir as data/<name> (the source is
# never modified, data/<name> is never the source), with --utt2emo / --classes / --label-map.
set -euo pipefail
# Begin configuration section.
data_dir=               # the existing Kaldi data dir (wav.scp, optional segments, utt2spk)
name=                   # name of the copy under data/ ('' = the data dir's own name)
utt2emo=                # '<utt> <label>' file ('' = the data dir's utt2emo, or none: inference only)
classes=                # class inventory ('' = the data dir's emotions.txt, else the labels sorted)
label_map=              # '<from> <to>' label merges (e.g. 'exc hap')
names_only=false        # print the data dir this makes (data=<dir>), make nothing
# End configuration section.
. ./utils/parse_options.sh

if [ -z "$data_dir" ]; then echo "$0: error: --data-dir is required" >&2; exit 2; fi
data=data/${name:-$(basename "$data_dir")}
if "$names_only"; then echo "data=$data"; exit 0; fi
opts=()
[ -z "$utt2emo" ] || opts+=(--utt2emo "$utt2emo")
[ -z "$classes" ] || opts+=(--classes "$classes")
[ -z "$label_map" ] || opts+=(--label-map "$label_map")
python -m emotion2vec.corpora.custom ${opts[@]+"${opts[@]}"} "$data_dir" "$data"
