"""Helpers shared by the test modules (importable as `helpers.<module>`: pyproject.toml puts
tests/ on pytest's path).  Test modules import these, never each other or a conftest.

    audio_synth   a tiny espeak-ng + sox corpus in every wav.scp form
    featsteps     run steps/extract_feats.sh, read feats.scp
    traincorpus   data + feature dirs with a known class structure; run entry points in-process
    lookalike     corpus trees in the real layouts (IEMOCAP, EmoDB, THAI SER, EmoBox)
    recipetree    copies of egs/<corpus>/ in a temporary tree, run.sh runner
    killing       start a step as a terminal does, kill it, find survivors
"""
