"""Safe loading of emotion2vec checkpoints: every released container format, no fairseq.

Formats (detected from the content, never from the file name):
  * fairseq (``emotion2vec_base.pt``): ``{"model": <state dict incl. decoder>, "cfg": <OmegaConf
    DictConfig or plain dict>, ...training state}``;
  * emotion2vec+ (ModelScope / Hugging Face ``model.pt``): ``{"model": {"d2v_model.<name>": ...,
    "proj.weight", "proj.bias"}, ...optimizer state}`` with ``config.yaml`` and ``tokens.txt``
    beside it;
  * a plain state dict (released names, with or without the ``d2v_model.`` prefix).

Safety: files are unpickled with ``torch.load(weights_only=True)``. The only non-tensor classes
allowed are the config classes these checkpoints contain (OmegaConf containers and nodes,
``typing.Any``, ``argparse.Namespace``, enums of the fairseq/hydra/omegaconf config modules),
and they are bound to inert stand-in classes that only record their pickled state: no code of
omegaconf, fairseq or anything else runs while loading, and omegaconf need not be installed.
A checkpoint that references any other global (e.g. ``os.system``) is refused before loading.
"""

from __future__ import annotations

import ast
import collections
import re
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import torch

from emotion2vec.errors import E2VError
from emotion2vec.models.encoder import DEFAULT_CONV_SPEC, EncoderConfig

# Keys only used for pretraining (the data2vec decoder, EMA teacher, ...): dropped on load.
PRETRAINING_ONLY = re.compile(
    r"^(modality_encoders\.[A-Z]+\.decoder\.|decoder\.|shared_decoder\.|recon_proj\.|_ema\.|ema\.)"
)
PLUS_PREFIX = "d2v_model."

# Label order of the emotion2vec+ head when tokens.txt is absent.
DEFAULT_LABELS = ["angry", "disgusted", "fearful", "happy", "neutral", "other", "sad",
                  "surprised", "unknown"]

# ---------------------------------------------------------------------------------------------
# Restricted unpickling
# ---------------------------------------------------------------------------------------------


class PickledConfig:
    """Inert stand-in for an allow-listed config class: records constructor args and state."""

    pickled_name = "?"

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj.args, obj.state = args, None
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.state = state

    def __repr__(self):
        return f"<pickled {self.pickled_name}>"


def _stand_in(full_name: str) -> type:
    return type("PickledConfig_" + full_name.replace(".", "_"), (PickledConfig,),
                {"pickled_name": full_name})


# Exact names allowed everywhere; plus any enum-like name in these config modules.
_ALLOWED_EXACT = [
    "omegaconf.dictconfig.DictConfig", "omegaconf.listconfig.ListConfig",
    "omegaconf.base.Metadata", "omegaconf.base.ContainerMetadata", "omegaconf.base.Node",
    "omegaconf.nodes.AnyNode", "omegaconf.nodes.StringNode", "omegaconf.nodes.IntegerNode",
    "omegaconf.nodes.FloatNode", "omegaconf.nodes.BooleanNode", "omegaconf.nodes.EnumNode",
    "omegaconf.nodes.BytesNode", "omegaconf.nodes.PathNode", "omegaconf.nodes.ValueNode",
    "omegaconf.nodes.InterpolationResultNode",
    "typing.Any", "argparse.Namespace",
]
# Plain types that OmegaConf metadata refers to (as values, e.g. object_type=dict): harmless,
# bound to the real objects.
_REAL_ALLOWED = {f"builtins.{t.__name__}": t for t in
                 (dict, list, tuple, set, frozenset, int, float, str, bool, bytes)}
_REAL_ALLOWED.update({"collections.defaultdict": collections.defaultdict,
                      "collections.OrderedDict": collections.OrderedDict})
_CONFIG_MODULE = re.compile(r"^(fairseq|hydra|omegaconf)(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_STAND_INS: Dict[str, type] = {n: _stand_in(n) for n in _ALLOWED_EXACT}


def _is_allowed(full_name: str) -> bool:
    if full_name in _STAND_INS or full_name in _REAL_ALLOWED:
        return True
    module, _, name = full_name.rpartition(".")
    # config-module classes such as fairseq's choice enums: plain values once recorded
    return bool(_CONFIG_MODULE.match(module)) and name[:1].isupper()


def _scan_globals(path: Path) -> Optional[List[str]]:
    """Globals the pickle needs beyond torch's defaults (static scan, nothing is executed)."""
    if not zipfile.is_zipfile(path):
        return None
    try:
        return list(torch.serialization.get_unsafe_globals_in_checkpoint(str(path)))
    except Exception:  # noqa: BLE001 - an unreadable pickle is reported by torch.load below
        return None


def safe_load(path) -> Any:
    """Unpickle a torch checkpoint with weights_only=True and the config allow-list."""
    path = Path(path)
    if not path.is_file():
        raise E2VError(f"checkpoint not found: {path}")
    needed = _scan_globals(path)
    if needed is not None:
        refused = sorted(n for n in needed if not _is_allowed(n))
        if refused:
            raise E2VError(
                f"refusing to load {path}: it references Python objects outside the checkpoint "
                f"allow-list ({', '.join(refused)}); unpickling it could run arbitrary code. "
                "Only tensors and the config classes of the released emotion2vec checkpoints "
                "are accepted; re-save the weights as a plain state dict (or safetensors) "
                "from a trusted environment.")
        names = needed
    else:
        names = []
    for n in names:
        if n not in _REAL_ALLOWED:
            _STAND_INS.setdefault(n, _stand_in(n))
    safe = [(cls, name) for name, cls in _STAND_INS.items()]
    safe += [(obj, name) for name, obj in _REAL_ALLOWED.items()]
    try:
        with torch.serialization.safe_globals(safe):
            return torch.load(str(path), map_location="cpu", weights_only=True)
    except E2VError:
        raise
    except Exception as exc:  # noqa: BLE001 - turned into one clear message
        msg = str(exc).strip().splitlines()
        detail = msg[0] if msg else type(exc).__name__
        if "Unsupported global" in str(exc) or "weights_only" in str(exc):
            raise E2VError(
                f"refusing to load {path}: it needs a Python object outside the checkpoint "
                f"allow-list ({detail}); unpickling it could run arbitrary code") from None
        raise E2VError(f"cannot read checkpoint {path}: {detail} "
                       "(truncated or not a torch checkpoint?)") from None


def to_plain(obj: Any, _depth: int = 0) -> Any:
    """Convert recorded OmegaConf/argparse/enum objects into plain dicts, lists and values."""
    if _depth > 100:
        return None
    d = _depth + 1
    if isinstance(obj, PickledConfig):
        name = obj.pickled_name
        st = obj.state
        if name.endswith(("DictConfig", "ListConfig")):
            content = st.get("_content") if isinstance(st, dict) else None
            if isinstance(content, dict):
                return {str(k): to_plain(v, d) for k, v in content.items()}
            if isinstance(content, (list, tuple)):
                return [to_plain(v, d) for v in content]
            return content  # None, "???" (missing) or an interpolation string
        if ".nodes." in name:
            return to_plain(st.get("_val") if isinstance(st, dict) else None, d)
        if name == "argparse.Namespace":
            return {k: to_plain(v, d) for k, v in (st or {}).items()}
        if obj.args:  # enum member: Enum(value)
            return to_plain(obj.args[0], d)
        if isinstance(st, dict):
            return {k: to_plain(v, d) for k, v in st.items() if not k.startswith("_")}
        return None
    if isinstance(obj, dict):
        return {k: to_plain(v, d) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v, d) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------------
# Containers -> (state dict, config dict)
# ---------------------------------------------------------------------------------------------


def _is_state_dict(obj) -> bool:
    return isinstance(obj, dict) and len(obj) > 0 and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def unwrap_checkpoint(obj: Any, source: str = "checkpoint") -> Tuple[Dict[str, torch.Tensor], dict, str]:
    """(state dict in released names, plain config dict, format name)."""
    if _is_state_dict(obj):
        sd, cfg, fmt = obj, {}, "state_dict"
    elif isinstance(obj, dict) and _is_state_dict(obj.get("model")):
        sd = obj["model"]
        cfg = to_plain(obj.get("cfg")) or {}
        if not isinstance(cfg, dict):
            cfg = {}
        if not cfg and obj.get("args") is not None:
            args = to_plain(obj["args"])
            cfg = {"model": args} if isinstance(args, dict) else {}
        fmt = "plus" if any(k.startswith(PLUS_PREFIX) for k in sd) else "fairseq"
    elif isinstance(obj, dict) and _is_state_dict(obj.get("state_dict")):
        sd, cfg, fmt = obj["state_dict"], {}, "state_dict"
    else:
        kind = type(obj).__name__
        keys = ", ".join(map(str, list(obj)[:8])) if isinstance(obj, dict) else ""
        raise E2VError(f"{source}: not an emotion2vec checkpoint (a {kind}"
                       f"{' with keys ' + keys if keys else ''}; expected a state dict or a "
                       "dict with a 'model' state dict)")
    out = {}
    for k, v in sd.items():
        if k.startswith(PLUS_PREFIX):
            k = k[len(PLUS_PREFIX):]
        elif k.startswith("module."):  # saved from DistributedDataParallel
            k = k[len("module."):]
        if PRETRAINING_ONLY.match(k):
            continue
        out[k] = v
    return out, cfg, fmt


def _resolve(value, root: dict):
    """Resolve an absolute OmegaConf interpolation like ``${model.depth}`` (else unchanged)."""
    m = re.fullmatch(r"\$\{([A-Za-z0-9_.]+)\}", value) if isinstance(value, str) else None
    if not m:
        return value
    node: Any = root
    for part in m.group(1).split("."):
        if not isinstance(node, dict) or part not in node:
            return value
        node = node[part]
    return node


def parse_conv_spec(text: str) -> Tuple[Tuple[int, int, int], ...]:
    """Evaluate a fairseq ``feature_encoder_spec`` such as ``[(512, 10, 5)] + [(512, 3, 2)] * 4``
    safely (list/tuple literals, ``+`` and ``*`` only)."""

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            vals = [ev(e) for e in node.elts]
            return vals if isinstance(node, ast.List) else tuple(vals)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            a, b = ev(node.left), ev(node.right)
            return a + b if isinstance(node.op, ast.Add) else a * b
        raise ValueError(f"unsupported expression {ast.dump(node)[:60]}")

    try:
        spec = ev(ast.parse(text, mode="eval"))
        spec = tuple(tuple(int(v) for v in layer) for layer in spec)
        if not spec or any(len(layer) != 3 for layer in spec):
            raise ValueError("expected a list of (channels, kernel, stride)")
    except (SyntaxError, ValueError, TypeError) as exc:
        raise E2VError(f"bad feature_encoder_spec {text!r}: {exc}") from None
    return spec


_PRE = "modality_encoders.AUDIO."


def _shape(sd: Dict[str, torch.Tensor], key: str, source: str) -> tuple:
    t = sd.get(key)
    if t is None:
        raise E2VError(f"{source}: missing tensor {key!r}: not an emotion2vec checkpoint "
                       f"(first keys: {', '.join(list(sd)[:5])})")
    return tuple(t.shape)


def _count(sd: Dict[str, torch.Tensor], prefix: str) -> int:
    """How many numbered children ``prefix<i>.`` the state dict holds."""
    return len({k[len(prefix):].split(".")[0] for k in sd if k.startswith(prefix)})


def _conv_spec(sd: Dict[str, torch.Tensor], spec_text, source: str):
    """(channels, kernel, stride) of every conv layer: from the config's feature_encoder_spec,
    else channels and kernels from the shapes with the strides of the released models; checked
    against the tensors."""
    n_conv = _count(sd, _PRE + "local_encoder.conv_layers.")
    if isinstance(spec_text, str):
        spec = parse_conv_spec(spec_text)
    else:
        spec = []
        for i in range(n_conv):
            w = _shape(sd, f"{_PRE}local_encoder.conv_layers.{i}.0.weight", source)
            if i >= len(DEFAULT_CONV_SPEC) or DEFAULT_CONV_SPEC[i][1] != w[2]:
                raise E2VError(f"{source}: conv layers differ from the released ones and no "
                               "config gives their strides (feature_encoder_spec)")
            spec.append((w[0], w[2], DEFAULT_CONV_SPEC[i][2]))
        spec = tuple(spec)
    if len(spec) != n_conv:
        raise E2VError(f"{source}: feature_encoder_spec has {len(spec)} layers but the "
                       f"checkpoint has {n_conv} conv layers")
    for i, (c, k, s) in enumerate(spec):
        w = _shape(sd, f"{_PRE}local_encoder.conv_layers.{i}.0.weight", source)
        if (w[0], w[2]) != (c, k):
            raise E2VError(f"{source}: conv layer {i} weight {list(w)} disagrees with the "
                           f"feature_encoder_spec entry {(c, k, s)}")
    return spec


def config_from_checkpoint(sd: Dict[str, torch.Tensor], cfg: dict, source: str) -> EncoderConfig:
    """Sizes from tensor shapes, the rest (strides, eps, normalize) from the config."""
    model_cfg = cfg.get("model_conf") or cfg.get("model") or cfg
    if not isinstance(model_cfg, dict):
        model_cfg = {}
    audio = ((model_cfg.get("modalities") or {}).get("audio") or {})

    def get(d, key, default):
        v = _resolve(d.get(key, default), cfg)
        return default if v is None or (isinstance(v, str) and v.startswith("${")) else v

    def shape(key):
        return _shape(sd, key, source)

    embed_dim = shape(_PRE + "project_features.2.weight")[0]
    spec = _conv_spec(sd, get(audio, "feature_encoder_spec", None), source)

    scale_shape = shape(_PRE + "alibi_scale")
    if len(scale_shape) == 4:  # older layout without the per-layer axis
        scale_shape = (1,) + scale_shape
    heads_cfg = get(model_cfg, "num_heads", None)
    heads = scale_shape[2] if scale_shape[2] > 1 else int(heads_cfg or max(1, embed_dim // 64))
    if heads_cfg is not None and int(heads_cfg) != heads:
        raise E2VError(f"{source}: config num_heads={heads_cfg} but alibi_scale has {heads} heads")
    if embed_dim % heads:
        raise E2VError(f"{source}: embed_dim {embed_dim} is not divisible by {heads} heads")

    depth = _count(sd, "blocks.")
    prenet = _count(sd, _PRE + "context_encoder.blocks.")
    n_pos = _count(sd, _PRE + "relative_positional_encoder.")
    pos_w = shape(_PRE + "relative_positional_encoder.1.0.weight")
    first_block = "blocks.0." if depth else _PRE + "context_encoder.blocks.0."
    mlp = shape(first_block + "mlp.fc1.weight")[0]
    num_classes = shape("proj.weight")[0] if "proj.weight" in sd else 0
    normalize = get(model_cfg, "normalize", None)
    if normalize is None:
        normalize = get(cfg.get("task") or {}, "normalize", True)
    return EncoderConfig(
        embed_dim=embed_dim, num_heads=heads, depth=depth, prenet_depth=prenet, mlp_dim=mlp,
        num_extra_tokens=shape(_PRE + "extra_tokens")[1], conv_spec=spec,
        pos_conv_depth=n_pos, pos_conv_kernel=pos_w[2], pos_conv_groups=embed_dim // pos_w[1],
        alibi_scale_layers=scale_shape[0], norm_eps=float(get(model_cfg, "norm_eps", 1e-5)),
        normalize=bool(normalize), num_classes=num_classes)


def load_weights(model: torch.nn.Module, sd: Dict[str, torch.Tensor], source: str) -> None:
    """Strict load; every missing/unexpected key and shape mismatch is listed."""
    expected = model.state_dict()
    sd = dict(sd)
    k = "modality_encoders.AUDIO.alibi_scale"
    if k in sd and sd[k].dim() == 4:
        sd[k] = sd[k].unsqueeze(0)
    missing = [n for n in expected if n not in sd]
    unexpected = [n for n in sd if n not in expected]
    mismatched = [f"{n}: checkpoint {list(sd[n].shape)} vs model {list(expected[n].shape)}"
                  for n in expected if n in sd and sd[n].shape != expected[n].shape]
    if missing or unexpected or mismatched:
        parts = []
        for title, items in (("missing keys", missing), ("unexpected keys", unexpected),
                             ("shape mismatches", mismatched)):
            if items:
                more = f" ... (+{len(items) - 20} more)" if len(items) > 20 else ""
                parts.append(f"{title} ({len(items)}): " + ", ".join(items[:20]) + more)
        raise E2VError(f"{source}: checkpoint does not match the emotion2vec network; "
                       + "; ".join(parts))
    bad = [n for n, v in sd.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise E2VError(f"{source}: non-finite weights in {', '.join(bad[:5])}")
    # a model built on the meta device takes the checkpoint's tensors as they are (assign)
    on_meta = any(t.is_meta for t in expected.values())
    model.load_state_dict({n: v.float() if v.is_floating_point() else v for n, v in sd.items()},
                          strict=True, assign=on_meta)


# ---------------------------------------------------------------------------------------------
# Files beside the weights
# ---------------------------------------------------------------------------------------------


def read_labels(path: Path) -> List[str]:
    """tokens.txt: one label per line, "中文/english" -> "english"."""
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    labels = [ln.rsplit("/", 1)[-1] for ln in lines if ln]
    labels = ["unknown" if lab == "<unk>" else lab for lab in labels]
    if not labels:
        raise E2VError(f"{path}: no labels")
    return labels


def read_yaml_config(path: Path) -> dict:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise E2VError(f"{path}: invalid YAML: {exc}") from None
    return data if isinstance(data, dict) else {}


def read_checkpoint(weights: Path):
    """(state dict, EncoderConfig, labels or None, format) for a weights file."""
    if weights.suffix == ".safetensors":
        from safetensors.torch import load_file

        obj: Any = load_file(str(weights))
    else:
        obj = safe_load(weights)
    sd, cfg, fmt = unwrap_checkpoint(obj, str(weights))
    yaml_cfg = weights.parent / "config.yaml"
    if yaml_cfg.is_file() and not cfg:
        cfg = read_yaml_config(yaml_cfg)
    config = config_from_checkpoint(sd, cfg, str(weights))
    labels = None
    if config.num_classes:
        tokens = weights.parent / "tokens.txt"
        labels = read_labels(tokens) if tokens.is_file() else None
        if labels is None and config.num_classes == len(DEFAULT_LABELS):
            labels = list(DEFAULT_LABELS)
        if labels is None or len(labels) != config.num_classes:
            raise E2VError(f"{weights}: the class head has {config.num_classes} outputs but "
                           f"{tokens} gives {0 if labels is None else len(labels)} labels")
    return sd, config, labels, fmt
