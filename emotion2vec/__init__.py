"""emotion2vec recipes: Kaldi-style speech emotion recognition around the emotion2vec models."""

__version__ = "0.1.0"
