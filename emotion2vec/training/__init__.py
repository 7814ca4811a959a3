"""Downstream training: feature access, normalisation, the training loop, experiments."""
