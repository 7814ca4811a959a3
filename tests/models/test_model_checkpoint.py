"""Loading every container format, safely; name resolution; clear errors for bad checkpoints."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from emotion2vec.errors import E2VError
from emotion2vec.models import load_model
from emotion2vec.models.checkpoint import parse_conv_spec, safe_load, to_plain
from emotion2vec.testing.tiny import make_tiny_checkpoint

REPO = Path(__file__).resolve().parents[2]


def test_every_format_loads_the_same_network(tiny_dir, speech):
    wav = [speech(8000, seed=4)]
    models = {fmt: load_model(p) for fmt, p in tiny_dir.items()}
    for fmt, m in models.items():
        assert (m.embed_dim, m.config.num_heads, m.config.depth, m.config.prenet_depth,
                m.num_layers, m.config.num_extra_tokens) == (32, 4, 2, 1, 3, 10), fmt
        assert m.config.conv_spec[0] == (32, 10, 5) and m.config.conv_spec[-1] == (32, 2, 2)
    base = models["fairseq"].extract(wav)[0]
    # same seed -> same encoder weights in every container
    np.testing.assert_array_equal(models["state_dict"].extract(wav)[0], base)
    np.testing.assert_array_equal(models["plus"].extract(wav)[0], base)
    assert models["plus"].labels == ["angry", "disgusted", "fearful", "happy", "neutral",
                                     "other", "sad", "surprised", "unknown"]
    assert models["fairseq"].labels is None and models["state_dict"].labels is None


def test_fairseq_cfg_is_a_real_omegaconf_object_and_is_read(tiny_dir):
    omegaconf = pytest.importorskip("omegaconf")
    raw = torch.load(tiny_dir["fairseq"], weights_only=False)  # our own test file
    assert isinstance(raw["cfg"], omegaconf.DictConfig)
    assert any(".decoder." in k for k in raw["model"])
    cfg = to_plain(safe_load(tiny_dir["fairseq"])["cfg"])
    assert cfg["model"]["embed_dim"] == 32 and cfg["task"]["normalize"] is True
    assert cfg["model"]["modalities"]["audio"]["model_depth"] == "${model.depth}"


def test_loading_never_imports_omegaconf_and_works_without_it(tiny_dir):
    """The fairseq checkpoint (OmegaConf cfg) loads with omegaconf unimportable."""
    code = textwrap.dedent(f"""
        import sys
        sys.modules["omegaconf"] = None  # any import of it now fails
        from emotion2vec.models import load_model
        m = load_model({str(tiny_dir["fairseq"])!r})
        assert m.embed_dim == 32 and m.config.depth == 2, m
        print("loaded", m.config.num_heads)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert "loaded 4" in r.stdout


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_checkpoint_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"model": {"x": torch.zeros(1)}, "cfg": _Evil(marker)}, path)
    with pytest.raises(E2VError, match=r"refusing to load .*evil\.pt.*(posix|os)\.system"):
        load_model(path)
    assert not marker.exists()


def test_unknown_class_is_refused(tmp_path):
    path = tmp_path / "odd.pt"
    torch.save({"model": {"a": torch.zeros(1)}, "extra": Path("/etc")}, path)
    with pytest.raises(E2VError, match="refusing to load.*pathlib"):
        load_model(path)


def test_truncated_checkpoint(tmp_path, tiny_dir):
    data = Path(tiny_dir["state_dict"]).read_bytes()
    bad = tmp_path / "trunc.pt"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(E2VError, match="cannot read checkpoint .*trunc.pt"):
        load_model(bad)


def test_wrong_checkpoint_lists_keys_and_shapes(tmp_path, tiny_dir):
    sd = torch.load(tiny_dir["state_dict"], weights_only=True)
    broken = dict(sd)
    del broken["blocks.1.mlp.fc2.bias"]
    broken["blocks.1.attn.extra"] = torch.zeros(3)
    broken["blocks.0.norm1.weight"] = torch.zeros(31)
    p = tmp_path / "broken.pt"
    torch.save(broken, p)
    with pytest.raises(E2VError) as ei:
        load_model(p)
    msg = str(ei.value)
    assert "missing keys (1): blocks.1.mlp.fc2.bias" in msg
    assert "unexpected keys (1): blocks.1.attn.extra" in msg
    assert "shape mismatches (1): blocks.0.norm1.weight: checkpoint [31] vs model [32]" in msg
    p2 = tmp_path / "other.pt"
    torch.save({"encoder.weight": torch.zeros(2)}, p2)
    with pytest.raises(E2VError, match="missing tensor 'modality_encoders.AUDIO.project_features"):
        load_model(p2)
    p3 = tmp_path / "list.pt"
    torch.save([1, 2], p3)
    with pytest.raises(E2VError, match="not an emotion2vec checkpoint"):
        load_model(p3)


def test_plus_model_pt_alone_uses_documented_labels(tmp_path, tiny_dir):
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "model.pt").write_bytes((Path(tiny_dir["plus"]) / "model.pt").read_bytes())
    m = load_model(lone / "model.pt")
    assert m.labels[4] == "neutral" and m.config.num_classes == 9


def test_large_size_is_read_from_shapes(tmp_path, speech):
    p = make_tiny_checkpoint(tmp_path / "x", fmt="plus", embed_dim=48, num_heads=16, seed=1)
    m = load_model(p)
    assert (m.embed_dim, m.config.num_heads, m.config.mlp_dim) == (48, 16, 192)
    assert m.classify([speech(3000)]).shape == (1, 9)


def test_released_names_resolve_to_the_cache(tmp_path, monkeypatch, speech):
    monkeypatch.setenv("EMOTION2VEC_CACHE", str(tmp_path))
    make_tiny_checkpoint(tmp_path / "emotion2vec_plus_base", fmt="plus", seed=2)
    m = load_model("emotion2vec_plus_base")
    assert m.labels[0] == "angry" and m.extract([speech(2000)])[0].shape[1] == 32


def test_missing_released_model_offline_says_what_to_put_where(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOTION2VEC_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(E2VError) as ei:
        load_model("emotion2vec_plus_large")
    msg = str(ei.value)
    assert "model.pt" in msg and str(tmp_path / "emotion2vec_plus_large") in msg
    assert "huggingface.co/emotion2vec/emotion2vec_plus_large" in msg
    with pytest.raises(E2VError, match="neither a released name"):
        load_model("emotion2vec_tiny_nonexistent")


def test_feature_encoder_spec_is_parsed_without_eval():
    assert parse_conv_spec("[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] + [(512,2,2)]") \
        == ((512, 10, 5),) + ((512, 3, 2),) * 4 + ((512, 2, 2),) * 2
    with pytest.raises(E2VError, match="bad feature_encoder_spec"):
        parse_conv_spec("__import__('os').system('true')")
