"""Cross-validation experiments: the directory's files (expdir), preparing it and training a
fold (experiment), when a fold is done (foldstate), scoring the folds (results) and reading
the features (featureset).  The heads and their training loop are in emotion2vec.heads."""
