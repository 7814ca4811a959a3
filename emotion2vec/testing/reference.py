"""Build the FunASR reference port of emotion2vec (tests and benchmark only; FunASR is not a
dependency of the toolkit) with random weights.

Used by tests/models and benchmarks/bench_model.py; FunASR is imported lazily so that the
rest of the suite runs without it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml


def funasr_conf(embed_dim=768, num_heads=12, depth=8, prenet_depth=4, num_extra_tokens=10,
                mlp_ratio=4.0):
    """The complete model_conf FunASR's constructor needs (it has no defaults)."""
    return {
        "loss_beta": 0.0, "loss_scale": None, "depth": depth, "start_drop_path_rate": 0.0,
        "end_drop_path_rate": 0.0, "num_heads": num_heads, "norm_eps": 1e-5, "norm_affine": True,
        "encoder_dropout": 0.1, "post_mlp_drop": 0.1, "attention_dropout": 0.1,
        "activation_dropout": 0.0, "dropout_input": 0.0, "layerdrop": 0.05,
        "embed_dim": embed_dim, "mlp_ratio": mlp_ratio, "layer_norm_first": False,
        "average_top_k_layers": depth, "end_of_block_targets": False, "clone_batch": 8,
        "normalize": True,
        "modalities": {"audio": {
            "type": "AUDIO", "prenet_depth": prenet_depth, "prenet_layerdrop": 0.05,
            "prenet_dropout": 0.1, "start_drop_path_rate": 0.0, "end_drop_path_rate": 0.0,
            "num_extra_tokens": num_extra_tokens, "init_extra_token_zero": True,
            "mask_noise_std": 0.01, "mask_prob_min": None, "mask_prob": 0.5,
            "inverse_mask": False, "mask_prob_adjust": 0.05, "keep_masked_pct": 0.0,
            "mask_length": 5, "add_masks": False, "remove_masks": False, "mask_dropout": 0.0,
            "encoder_zero_mask": True, "mask_channel_prob": 0.0, "mask_channel_length": 64,
            "ema_local_encoder": False, "local_grad_mult": 1.0, "use_alibi_encoder": True,
            "alibi_scale": 1.0, "learned_alibi": False, "alibi_max_pos": None,
            "learned_alibi_scale": True, "learned_alibi_scale_per_head": True,
            "learned_alibi_scale_per_layer": False, "num_alibi_heads": num_heads,
            "model_depth": depth,
            "decoder": {"decoder_dim": 384, "decoder_groups": 16, "decoder_kernel": 7,
                        "decoder_layers": 4, "input_dropout": 0.1,
                        "add_positions_masked": False, "add_positions_all": False,
                        "decoder_residual": True, "projection_layers": 1,
                        "projection_ratio": 2.0},
            "extractor_mode": "layer_norm",
            "feature_encoder_spec":
                "[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] + [(512,2,2)]",
            "conv_pos_width": 95, "conv_pos_groups": 16, "conv_pos_depth": 5,
            "conv_pos_pre_ln": False,
        }},
    }


def build_reference(num_classes=0, seed=0, **sizes):
    """FunASR Emotion2vec in eval mode with random weights (extra tokens and alibi scale too).

    Returns (model, state_dict) where state_dict holds the random weights in the released
    key names (decoder included, as in the fairseq checkpoint).
    """
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            from funasr.models.emotion2vec.model import Emotion2vec
        finally:
            logging.disable(logging.NOTSET)
    torch.manual_seed(seed)
    kw = {"vocab_size": num_classes} if num_classes else {}
    ref = Emotion2vec(model_conf=funasr_conf(**sizes), **kw)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        enc = ref.modality_encoders["AUDIO"]
        enc.extra_tokens.copy_(torch.randn(enc.extra_tokens.shape, generator=g))
        # include a negative value: the scale is clamped at zero
        sc = torch.rand(enc.alibi_scale.shape, generator=g) * 1.5 + 0.2
        sc.view(-1)[0] = -0.3
        enc.alibi_scale.copy_(sc)
        for name, p in ref.named_parameters():
            if name.endswith(("norm1.weight", "norm2.weight", "2.1.weight", "norm.weight",
                              "project_features.1.weight")):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
    ref.eval()
    return ref, {k: v.detach().clone() for k, v in ref.state_dict().items()}


def save_as_plus_model(sd, directory, **sizes):
    """Write ``sd`` (released key names, e.g. ``build_reference``'s) as an emotion2vec+ model
    directory (model.pt with the ``d2v_model.`` prefix and an optimizer state, config.yaml with
    the ``sizes`` given to ``build_reference``), for ``load_model`` to load as a user loads a
    released model. Returns the directory."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    model = {("d2v_model." + k if not k.startswith("proj.") else k): v
             for k, v in sd.items() if ".decoder." not in k}
    torch.save({"model": model, "optimizer": {"state": {}, "param_groups": []}}, d / "model.pt")
    (d / "config.yaml").write_text(yaml.safe_dump({"model": "Emotion2vec",
                                                   "model_conf": funasr_conf(**sizes)}))
    return d


def reference_features(ref, wav):
    """The reference's last-block frame features for one 1-D float32 tensor: [T, D]."""
    with torch.inference_mode():
        src = F.layer_norm(wav, wav.shape)[None]
        return ref.extract_features(src, padding_mask=None)["x"][0]


def reference_posteriors(ref, wav):
    x = reference_features(ref, wav)
    with torch.inference_mode():
        return torch.softmax(ref.proj(x.mean(0)), dim=-1)
