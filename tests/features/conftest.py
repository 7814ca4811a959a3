import shutil

import pytest

from helpers import audio_synth


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """{"file"|"pipe"|"ark"|"segments": data dir} holding the same 12 utterances."""
    if not audio_synth.have_tools():
        pytest.skip("espeak-ng and sox are needed for the synthetic corpus")
    return audio_synth.make_forms(tmp_path_factory.mktemp("corpus"))


@pytest.fixture
def data_copy(corpus, tmp_path):
    """A private copy of one form's data dir (the step writes split dirs and feats.scp there)."""
    def copy(form="file", name=None):
        dst = tmp_path / (name or f"data_{form}")
        shutil.copytree(corpus[form], dst)
        return dst
    return copy


@pytest.fixture(scope="session")
def tiny_e2v(tmp_path_factory):
    """A tiny random emotion2vec checkpoint in the released fairseq container format."""
    from emotion2vec.testing.tiny import make_tiny_checkpoint

    return str(make_tiny_checkpoint(tmp_path_factory.mktemp("e2v") / "tiny.pt", fmt="fairseq"))


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory):
    """Tiny random transformers encoders saved with save_pretrained (no network):
    {"wav2vec2": dir (layer-norm front end, attention mask), "hubert": dir (group norm)}."""
    transformers = pytest.importorskip("transformers")
    import torch

    root = tmp_path_factory.mktemp("hf")
    small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                 conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
                 vocab_size=10)
    out = {}
    torch.manual_seed(0)
    w2v = transformers.Wav2Vec2Model(transformers.Wav2Vec2Config(
        feat_extract_norm="layer", do_stable_layer_norm=True, **small))
    out["wav2vec2"] = root / "wav2vec2"
    w2v.save_pretrained(out["wav2vec2"])
    transformers.Wav2Vec2FeatureExtractor(
        sampling_rate=16000, do_normalize=True, return_attention_mask=True).save_pretrained(out["wav2vec2"])
    hub = transformers.HubertModel(transformers.HubertConfig(feat_extract_norm="group", **small))
    out["hubert"] = root / "hubert"
    hub.save_pretrained(out["hubert"])
    # group-norm front end: even with return_attention_mask it must run one at a time
    transformers.Wav2Vec2FeatureExtractor(
        sampling_rate=16000, do_normalize=False, return_attention_mask=True).save_pretrained(out["hubert"])
    return {k: str(v) for k, v in out.items()}
