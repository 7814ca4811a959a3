"""emotion2vec models: the native PyTorch encoder and safe checkpoint loading.

    from emotion2vec.models import load_model
    m = load_model("emotion2vec_plus_base")          # or a directory / .pt file
    feats = m.extract([wav])                          # [T, D] float32 per waveform
    post = m.classify([wav])                          # [B, 9], labels in m.labels
"""

from emotion2vec.models.checkpoint import DEFAULT_LABELS
from emotion2vec.models.released import RELEASED, cache_dir
from emotion2vec.models.encoder import Emotion2vec, EncoderConfig
from emotion2vec.models.model import Emotion2vecModel, load_model

__all__ = ["load_model", "Emotion2vecModel", "Emotion2vec", "EncoderConfig", "RELEASED",
           "DEFAULT_LABELS", "cache_dir"]
