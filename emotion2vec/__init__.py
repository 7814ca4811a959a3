"""emotion2vec recipes: Kaldi-style speech emotion recognition around the emotion2vec models.

`from emotion2vec import AutoModel` gives the FunASR-style entry point (emotion2vec/automodel.py),
imported on first use so that `import emotion2vec` stays light (no torch).
"""

__version__ = "0.1.0"


def __getattr__(name):
    if name == "AutoModel":
        from emotion2vec.automodel import AutoModel

        return AutoModel
    raise AttributeError(f"module 'emotion2vec' has no attribute {name!r}")


__all__ = ["AutoModel", "__version__"]
