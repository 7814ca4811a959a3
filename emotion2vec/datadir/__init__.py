"""Kaldi data directories: read, write, validate, fix, subset, split, copy and combine them.

A data directory is a set of `<key> <value>` files sorted in `LC_ALL=C` order with unique
keys.  Files are keyed by utterance (utt2spk, segments, utt2emo, ...), by recording (wav.scp,
reco2file_and_channel, ...) or by speaker (spk2utt, spk2gender).  Every operation here carries
every such file (known names, and any other `utt2*` / `reco2*` / `spk2*` file by its prefix),
the class inventory `emotions.txt`, and the fold lists under `cv/` where they still make sense.

Errors are loud (DataDirError naming file, line and key): malformed lines, unsorted files,
duplicate keys are never silently dropped.  Writes are atomic.

Modules, each importing only those above it:
    kvfiles   one key-value file: ids, strict UTF-8, read_kv / write_kv, class inventories
    layout    which files a data dir holds; DataDir in memory; load_data_dir
    values    the format of each file's values; the report of errors and warnings
    validate  consistency across files: check_data_dir (one function a rule), validate_data_dir
    fix, split, subset, combine, stats   the utils/*.sh tools of those names
Import from the package (`from emotion2vec.datadir import read_kv`), not from the modules.
"""

from emotion2vec.datadir.kvfiles import (c_sort_key, decode_utf8, id_problem, read_classes,
                                         read_kv, read_kv_stream, read_utf8, spk2utt_to_utt2spk,
                                         utt2spk_to_spk2utt, write_kv)
from emotion2vec.datadir.layout import (ALL_FILES, CV_DIR, CV_INFO, REC_FILES, SPK_FILES,
                                        UTT_FILES, VERBATIM_FILES, DataDir, data_files,
                                        file_kind, is_pipe, load_data_dir)
from emotion2vec.datadir.validate import check_data_dir, validate_data_dir
from emotion2vec.datadir.fix import fix_data_dir
from emotion2vec.datadir.split import (split_by_speaker, split_contiguous, split_data_dir,
                                       split_scp)
from emotion2vec.datadir.subset import filter_scp, select_utterances, subset_data_dir
from emotion2vec.datadir.combine import combine_data_dirs, copy_data_dir
from emotion2vec.datadir.stats import data_dir_stats, format_stats

__all__ = [
    "UTT_FILES", "REC_FILES", "SPK_FILES", "ALL_FILES", "VERBATIM_FILES", "CV_DIR", "CV_INFO",
    "c_sort_key", "id_problem", "decode_utf8", "read_utf8", "read_kv", "read_kv_stream",
    "write_kv", "utt2spk_to_spk2utt", "spk2utt_to_utt2spk", "read_classes", "file_kind",
    "data_files", "is_pipe", "DataDir", "load_data_dir", "check_data_dir", "validate_data_dir",
    "fix_data_dir", "split_contiguous", "split_by_speaker", "split_data_dir", "select_utterances",
    "subset_data_dir", "copy_data_dir", "combine_data_dirs", "data_dir_stats", "format_stats",
    "filter_scp", "split_scp",
]
