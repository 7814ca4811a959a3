"""Tiny random emotion2vec checkpoints in each real container format (tests and benchmarks).

The containers reproduce the released ones (key names, nesting, prefixes, config sections,
training state to ignore); only the sizes are small and the weights random.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch
import yaml

from emotion2vec.models.encoder import Emotion2vec, EncoderConfig

TOKENS = ["生气/angry", "厌恶/disgusted", "恐惧/fearful", "开心/happy", "中立/neutral",
          "其他/other", "难过/sad", "吃惊/surprised", "<unk>"]


def tiny_config(embed_dim: int = 32, num_heads: int = 4, depth: int = 2, prenet_depth: int = 1,
                num_extra_tokens: int = 10, conv_channels: int = 32,
                num_classes: int = 0) -> EncoderConfig:
    spec = ((conv_channels, 10, 5),) + ((conv_channels, 3, 2),) * 4 + ((conv_channels, 2, 2),) * 2
    return EncoderConfig(embed_dim=embed_dim, num_heads=num_heads, depth=depth,
                         prenet_depth=prenet_depth, mlp_dim=4 * embed_dim,
                         num_extra_tokens=num_extra_tokens, conv_spec=spec,
                         pos_conv_groups=min(16, embed_dim), num_classes=num_classes)


def random_state_dict(cfg: EncoderConfig, seed: int = 0) -> dict:
    """Random weights in the released names (extra tokens and alibi scales randomised too)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = Emotion2vec(cfg)
        g = torch.Generator().manual_seed(seed + 1)
        with torch.no_grad():
            enc = net.modality_encoders["AUDIO"]
            enc.extra_tokens.normal_(generator=g)
            enc.alibi_scale.uniform_(0.2, 1.7, generator=g)
            for name, p in net.named_parameters():
                if name.endswith("bias"):
                    p.normal_(0.0, 0.05, generator=g)
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def _spec_text(cfg: EncoderConfig) -> str:
    return " + ".join(f"[{tuple(c)}]" for c in cfg.conv_spec)


def _model_section(cfg: EncoderConfig, interpolate: bool) -> dict:
    """The model config in the fairseq / FunASR layout (only the keys that matter + a few)."""
    return {
        "_name": "data2vec_multi", "loss_beta": 0.0, "depth": cfg.depth,
        "num_heads": cfg.num_heads, "embed_dim": cfg.embed_dim, "norm_eps": cfg.norm_eps,
        "norm_affine": True, "mlp_ratio": cfg.mlp_dim / cfg.embed_dim, "layer_norm_first": False,
        "encoder_dropout": 0.1, "layerdrop": 0.05, "average_top_k_layers": cfg.depth,
        "normalize": cfg.normalize,
        "modalities": {"audio": {
            "type": "AUDIO", "prenet_depth": cfg.prenet_depth,
            "num_extra_tokens": cfg.num_extra_tokens, "extractor_mode": "layer_norm",
            "feature_encoder_spec": _spec_text(cfg), "conv_pos_width": 95,
            "conv_pos_groups": cfg.pos_conv_groups, "conv_pos_depth": cfg.pos_conv_depth,
            "conv_pos_pre_ln": False, "use_alibi_encoder": True,
            "learned_alibi_scale": True, "learned_alibi_scale_per_head": True,
            "num_alibi_heads": "${model.num_heads}" if interpolate else cfg.num_heads,
            "model_depth": "${model.depth}" if interpolate else cfg.depth,
            "decoder": {"decoder_dim": 16, "decoder_groups": 16, "decoder_kernel": 7,
                        "decoder_layers": 2},
        }},
    }


def _decoder_keys(cfg: EncoderConfig, g: torch.Generator) -> dict:
    d = "modality_encoders.AUDIO.decoder."
    out = {}
    for i in range(2):
        out[f"{d}blocks.{i}.0.weight"] = torch.randn(16, 1, 7, generator=g)
        out[f"{d}blocks.{i}.0.bias"] = torch.randn(16, generator=g)
    out[d + "proj.weight"] = torch.randn(cfg.embed_dim, 16, generator=g)
    out[d + "proj.bias"] = torch.randn(cfg.embed_dim, generator=g)
    return out


def make_tiny_checkpoint(path, fmt: str = "fairseq", embed_dim: int = 32, num_heads: int = 4,
                         seed: int = 0, depth: int = 2, prenet_depth: int = 1,
                         num_classes: Optional[int] = None, conv_channels: int = 32,
                         use_omegaconf: Optional[bool] = None) -> Path:
    """Write a tiny random checkpoint; returns what to pass to ``load_model``.

    fmt "fairseq": ``path`` is a .pt file like emotion2vec_base.pt (``model`` with the
    pretraining decoder, ``cfg`` as an OmegaConf DictConfig when omegaconf is importable, else
    a plain dict, plus optimizer/training state). fmt "plus": ``path`` is a directory like the
    ModelScope/Hugging Face emotion2vec+ ones (model.pt with ``d2v_model.`` keys, ``proj.*`` and
    optimizer state; config.yaml; tokens.txt). fmt "state_dict": a plain state dict file.
    """
    if fmt not in ("fairseq", "plus", "state_dict"):
        raise ValueError(f"fmt must be fairseq, plus or state_dict, not {fmt!r}")
    if num_classes is None:
        num_classes = 9 if fmt == "plus" else 0
    cfg = tiny_config(embed_dim, num_heads, depth, prenet_depth, conv_channels=conv_channels,
                      num_classes=num_classes)
    sd = random_state_dict(cfg, seed)
    g = torch.Generator().manual_seed(seed + 2)
    path = Path(path)
    if fmt == "state_dict":
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(sd, path)
        return path
    if fmt == "fairseq":
        return _save_fairseq(path, cfg, sd, g, use_omegaconf)
    # plus: a model directory (given ".../model.pt", its parent directory)
    return _save_plus(path.parent if path.suffix == ".pt" else path, cfg, sd)


def _save_fairseq(path: Path, cfg: EncoderConfig, sd: dict, g: torch.Generator,
                  use_omegaconf: Optional[bool]) -> Path:
    """``sd`` as a fairseq checkpoint file like emotion2vec_base.pt."""
    section = _model_section(cfg, interpolate=True)
    full = {"_name": None,
            "common": {"seed": 1, "fp16": True, "log_interval": 200},
            "task": {"_name": "audio_pretraining", "data": "/data/manifest",
                     "sample_rate": 16000, "normalize": cfg.normalize},
            "model": section,
            "optimization": {"max_update": 100000, "lr": [0.00075]}}
    if use_omegaconf is None:
        try:
            import omegaconf  # noqa: F401  (test dependency)
            use_omegaconf = True
        except ImportError:
            use_omegaconf = False
    if use_omegaconf:
        from omegaconf import OmegaConf

        full = OmegaConf.create(full)
    model = dict(sd)
    model.update(_decoder_keys(cfg, g))
    first = next(iter(sd.values()))
    ckpt = {
        "args": None, "cfg": full, "model": model, "criterion": None,
        "optimizer_history": [{"criterion_name": "ModelCriterion",
                               "optimizer_name": "FairseqAdam",
                               "lr_scheduler_state": {"best": None}, "num_updates": 400000}],
        "task_state": {},
        "extra_state": {"epoch": 12, "previous_best": 0.125,
                        "train_iterator": {"epoch": 12, "iterations_in_epoch": 42}},
        "last_optimizer_state": {"state": {0: {"step": 10, "exp_avg": torch.zeros_like(first),
                                               "exp_avg_sq": torch.zeros_like(first)}},
                                 "param_groups": [{"lr": 0.0, "betas": (0.9, 0.98),
                                                   "params": [0]}]},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, path)
    return path


def _save_plus(path: Path, cfg: EncoderConfig, sd: dict) -> Path:
    """``sd`` as an emotion2vec+ model directory (model.pt, config.yaml, tokens.txt)."""
    path.mkdir(parents=True, exist_ok=True)
    model = {("d2v_model." + k if not k.startswith("proj.") else k): v for k, v in sd.items()}
    ckpt = {"model": model,
            "optimizer": {"state": {0: {"step": torch.tensor(5.0),
                                        "exp_avg": torch.zeros(cfg.embed_dim),
                                        "exp_avg_sq": torch.zeros(cfg.embed_dim)}},
                          "param_groups": [{"lr": 1e-5, "params": [0]}]},
            "scheduler": {"last_epoch": 5}, "epoch": 5}
    torch.save(ckpt, path / "model.pt")
    section = _model_section(cfg, interpolate=False)
    section.pop("_name")
    conf = {"model": "Emotion2vec", "model_conf": section,
            "tokenizer": "CharTokenizer",
            "tokenizer_conf": {"unk_symbol": "<unk>", "split_with_space": True},
            "scope_map": ["d2v_model.", "none"]}
    (path / "config.yaml").write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    n = cfg.num_classes
    labels = TOKENS if n == len(TOKENS) else [f"c{i}/class{i}" for i in range(n)]
    (path / "tokens.txt").write_text("".join(t + "\n" for t in labels), encoding="utf-8")
    return path
