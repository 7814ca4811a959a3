"""Corpus preparation: one module per corpus, its real layout -> a validated Kaldi data dir.

    python -m emotion2vec.corpora.iemocap --classes conf/emotions.txt <IEMOCAP_full_release> data/iemocap

Modules: `iemocap`, `emodb`, `thai_ser`, `emobox`, `custom` (your own Kaldi data dir + labels),
`mini` (the generated demo corpus in the IEMOCAP layout) and `mini_mixed` (its wav.scp in every
Kaldi form); `common` holds what they share (writing, validating and safely replacing the
data dir, published-count checks).  Recipes call them from their own `local/data.sh`.
"""
