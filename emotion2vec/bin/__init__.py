"""Entry points called by the shell steps (`python -m emotion2vec.bin.<name>`); thin."""
