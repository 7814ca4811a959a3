"""Test fixtures that ship with the package: for tests/ and benchmarks/ only.

The toolkit code never imports this subpackage (a test in tests/models checks it).
  * ``emotion2vec.testing.tiny``: tiny random emotion2vec checkpoints in each real container
    format (fairseq, emotion2vec+ directory, plain state dict);
  * ``emotion2vec.testing.reference``: the FunASR reference port of emotion2vec with random
    weights, for the parity tests and the benchmark (FunASR is a test-only dependency).
"""
