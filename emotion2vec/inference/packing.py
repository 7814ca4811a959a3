"""One-file trained models: a tar.gz a colleague can run `infer` with on another machine.

Layout of the archive (every member listed with its SHA-256 in the manifest):

    manifest.json                 format, version, classes, feature settings (feat_info),
                                  encoder (reference by name/path, or embedded), heads, files
    heads/<fold>[/<seed>]/head.json, head.safetensors     the trained heads (JSON + safetensors)
    encoder/...                   with --include-encoder: model.safetensors + config.yaml
                                  (+ tokens.txt) for emotion2vec; config.json, *.safetensors,
                                  preprocessor_config.json for Hugging Face encoders

Loading never unpickles: only .json/.yaml/.txt/.safetensors members are accepted, each must be
a plain file listed in the manifest with a matching checksum, and every .safetensors header is
checked before anything reads it. Anything else (a pickled .pt/.bin/.pkl, a link, a path that
leaves the archive) makes the whole file refused.  `unpack` verifies and extracts; the
predictor of a packed file is made by inference/loading.py (`load_packed`).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import json
import os
import shutil
import struct
import tarfile
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from emotion2vec.errors import E2VError
from emotion2vec.fileio import atomic_open
from emotion2vec.inference.headdirs import exp_folds, head_dirs

FORMAT = "emotion2vec-packed-model"
FORMAT_VERSION = 1
ALLOWED_SUFFIXES = (".json", ".yaml", ".yml", ".txt", ".safetensors")
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy", ".npz")
MANIFEST = "manifest.json"
# A safetensors header is JSON of at most this many bytes (the format's own limit is 100 MB).
_MAX_HEADER = 100_000_000


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_safetensors(data_head: bytes, size: int, what: str) -> None:
    """Refuse anything that is not a safetensors file (e.g. a pickle renamed)."""
    if len(data_head) < 8:
        raise E2VError(f"{what}: not a safetensors file (too short)")
    (n,) = struct.unpack("<Q", data_head[:8])
    if n <= 1 or n > _MAX_HEADER or 8 + n > size:
        raise E2VError(f"{what}: not a safetensors file (bad header length; a pickle?)")
    try:
        header = json.loads(data_head[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise E2VError(f"{what}: not a safetensors file (unreadable header; a pickle?)") from None
    if not isinstance(header, dict):
        raise E2VError(f"{what}: not a safetensors file (header is not a JSON object)")


# ------------------------------------------------------------------------------------- packing

def _embed_emotion2vec(spec: str, dest: Path) -> Dict:
    """Convert an emotion2vec checkpoint into safetensors + config.yaml (+ tokens.txt)."""
    import yaml
    from safetensors.torch import save_file

    from emotion2vec.models.checkpoint import read_checkpoint  # lazy: torch
    from emotion2vec.models.released import resolve_spec

    weights = resolve_spec(spec)
    sd, config, labels, fmt = read_checkpoint(weights)
    dest.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous() for k, v in sd.items()}, str(dest / "model.safetensors"))
    spec_text = "[" + ", ".join(f"({c}, {k}, {s})" for c, k, s in config.conv_spec) + "]"
    cfg = {"model_conf": {"num_heads": config.num_heads, "norm_eps": config.norm_eps,
                          "normalize": config.normalize,
                          "modalities": {"audio": {"feature_encoder_spec": spec_text}}}}
    (dest / "config.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    if labels:
        (dest / "tokens.txt").write_text("".join(f"{x}\n" for x in labels), encoding="utf-8")
    return {"type": "embedded", "spec": str(spec), "source_format": fmt}


def _embed_hf(spec: str, dest: Path) -> Dict:
    src = Path(spec)
    if not src.is_dir():
        raise E2VError(f"--include-encoder: Hugging Face encoder {spec!r} is not a local "
                       "directory (download it first)")
    tensors = sorted(src.glob("*.safetensors"))
    if not tensors:
        raise E2VError(f"--include-encoder: {src} has no *.safetensors weights (pickled "
                       "pytorch_model.bin is not packed; re-save with save_pretrained)")
    dest.mkdir(parents=True, exist_ok=True)
    for f in tensors + [src / n for n in ("config.json", "preprocessor_config.json",
                                          "model.safetensors.index.json") if (src / n).is_file()]:
        shutil.copyfile(f, dest / f.name)
    if list(src.glob("*.py")):
        raise E2VError(f"--include-encoder: {src} ships Python code; packed models carry no code")
    return {"type": "embedded", "spec": str(spec)}


def pack(source: os.PathLike, out_file: os.PathLike, fold: str = "all",
         include_encoder: bool = False, encoder: Optional[str] = None) -> Dict:
    """Pack the heads of an experiment (or one fold/head dir) into `out_file` (a .tar.gz).

    Returns the manifest. `encoder` replaces the encoder reference recorded with the heads
    (e.g. the released name instead of a local path).
    """
    source = Path(source)
    metas = _load_heads(source, fold)
    feat_info = dict(metas[0][1].feat_info or {})
    if not feat_info.get("feat_type"):
        raise E2VError(f"{metas[0][0]}: the head records no feature settings (feat_info)")
    if feat_info["feat_type"] == "fusion" and (encoder or include_encoder):
        raise E2VError(f"{metas[0][0]}: the heads were trained on early-fused features (several "
                       "feature sets, each with its own encoder recorded in feat_info); "
                       "--encoder and --include-encoder are not supported for them")
    if encoder:
        feat_info["model"] = encoder
    with tempfile.TemporaryDirectory(prefix=".pack.", dir=Path(out_file).resolve().parent) as tmp:
        stage = Path(tmp)
        heads = _stage_heads(stage, source, metas)
        enc = _stage_encoder(stage, feat_info, include_encoder)
        files = _member_files(stage)
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "source": str(source.resolve()), "classes": list(metas[0][1].classes),
            "feat_info": feat_info, "encoder": enc, "heads": heads,
            "combination": "mean of head posteriors" if len(heads) > 1 else "single head",
            "results": _results_summary(source), "files": files,
        }
        _write_archive(out_file, stage, manifest)
    return manifest


def _load_heads(source: Path, fold: str) -> List[Tuple[Path, object]]:
    """(dir, head) of every head to pack, each loaded (proof that it loads before it is
    shipped) and fit for new audio."""
    from emotion2vec.heads import load_head  # lazy: heads load torch; `pack_model --show` doesn't

    dirs = head_dirs(source, fold)
    metas = [(d, load_head(d)) for d in dirs]
    classes = list(metas[0][1].classes)
    for d, h in metas:
        if list(h.classes) != classes:
            raise E2VError(f"{d}: its classes differ from {dirs[0]}'s")
        if getattr(h, "input_normalization", "none") == "speaker":
            raise E2VError(f"{d}: heads trained on speaker-normalised features cannot be used "
                           "on new audio; retrain with --normalize none or global")
    return metas


def _stage_heads(stage: Path, source: Path, metas) -> List[Dict]:
    """Copy the heads to heads/<fold>[/<seed>] (also when packing a single fold or head dir)."""
    heads = []
    for d, h in metas:
        rel = d.relative_to(source)
        rel = Path("heads") / (rel if exp_folds(source) else Path(source.name) / rel)
        (stage / rel).mkdir(parents=True, exist_ok=True)
        for name in ("head.json", "head.safetensors"):
            shutil.copyfile(d / name, stage / rel / name)
        heads.append({"path": rel.as_posix(), "type": h.name, "dim": h.dim, "config": h.config})
    return heads


def _stage_encoder(stage: Path, feat_info: Dict, include_encoder: bool) -> Dict:
    """The manifest's encoder entry; with `include_encoder`, its weights staged in encoder/."""
    enc_spec = feat_info.get("model")
    if feat_info["feat_type"] in ("fbank", "logspec", "logmel") or not enc_spec:
        return {"type": "none"}
    if not include_encoder:
        return {"type": "reference", "spec": enc_spec}
    embed = _embed_emotion2vec if feat_info["feat_type"] == "emotion2vec" else _embed_hf
    enc = embed(enc_spec, stage / "encoder")
    enc["path"] = "encoder"
    return enc


def _member_files(stage: Path) -> Dict[str, Dict]:
    """{member: {sha256, size}} of every staged file (only the allowed types)."""
    files = {}
    for f in sorted(stage.rglob("*")):
        if f.is_file():
            rel = f.relative_to(stage).as_posix()
            if not rel.endswith(ALLOWED_SUFFIXES):
                raise E2VError(f"internal: refusing to pack {rel}")
            files[rel] = {"sha256": _sha256(f), "size": f.stat().st_size}
    return files


def _results_summary(source: Path) -> Dict:
    """The experiment's mean, std and pooled scores, when it has a readable results.json."""
    res_file = source / "results.json"
    if res_file.is_file():
        with contextlib.suppress(ValueError, OSError):
            r = json.loads(res_file.read_text(encoding="utf-8"))
            return {k: r[k] for k in ("mean", "std", "pooled") if k in r}
    return {}


def _write_archive(out_file: os.PathLike, stage: Path, manifest: Dict) -> None:
    """manifest.json, then the staged members (owner and time zeroed), written atomically."""
    data = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
    with atomic_open(out_file, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w:gz") as tar:
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
            for rel in manifest["files"]:
                ti = tar.gettarinfo(str(stage / rel), arcname=rel)
                ti.uid = ti.gid = 0
                ti.uname = ti.gname = ""
                ti.mtime = 0
                with open(stage / rel, "rb") as f:
                    tar.addfile(ti, f)


# ----------------------------------------------------------------------------------- unpacking

def _safe_name(name: str, what: str) -> str:
    p = Path(name)
    if p.is_absolute() or ".." in p.parts or name.startswith("/") or "\\" in name:
        raise E2VError(f"{what}: member {name!r} points outside the archive; refused")
    return p.as_posix()


def read_manifest(path: os.PathLike) -> Dict:
    """The verified manifest of a packed model (no member is extracted)."""
    with _open_tar(path) as tar:
        return _manifest(tar, str(path))


def _open_tar(path: os.PathLike) -> tarfile.TarFile:
    p = Path(path)
    if not p.is_file():
        raise E2VError(f"{p}: no such packed model file")
    try:
        return tarfile.open(p, mode="r:*")
    except (tarfile.TarError, OSError) as e:
        raise E2VError(f"{p}: not a packed model (not a readable tar archive: {e})") from None


def _manifest(tar: tarfile.TarFile, what: str) -> Dict:
    try:
        m = tar.getmember(MANIFEST)
    except KeyError:
        raise E2VError(f"{what}: no {MANIFEST} (not a packed model made by pack_model)") from None
    if not m.isfile():
        raise E2VError(f"{what}: {MANIFEST} is not a regular file; refused")
    try:
        manifest = json.loads(tar.extractfile(m).read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise E2VError(f"{what}: {MANIFEST} is not valid JSON: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise E2VError(f"{what}: {MANIFEST} does not describe a packed emotion2vec model")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise E2VError(f"{what}: packed-model format version {manifest.get('format_version')} "
                       f"is not supported (this toolkit reads version {FORMAT_VERSION})")
    for key in ("classes", "feat_info", "encoder", "heads", "files"):
        if key not in manifest:
            raise E2VError(f"{what}: {MANIFEST} lacks '{key}'")
    return manifest


def _extract_verified(tar: tarfile.TarFile, what: str, out_dir: Path) -> None:
    manifest = _manifest(tar, what)
    listed = {_safe_name(k, what): v for k, v in manifest["files"].items()}
    seen = set()
    for m in tar.getmembers():
        name = _safe_name(m.name, what)
        if name == MANIFEST or m.isdir():
            continue
        low = name.lower()
        if low.endswith(PICKLE_SUFFIXES):
            raise E2VError(f"{what}: member {name} is a pickle-based file; packed models "
                           "hold only safetensors weights and JSON/YAML settings; refused")
        if not m.isfile():
            raise E2VError(f"{what}: member {name} is not a regular file (link or device); refused")
        if not low.endswith(ALLOWED_SUFFIXES):
            raise E2VError(f"{what}: member {name} has a type packed models never hold; refused")
        if name not in listed:
            raise E2VError(f"{what}: member {name} is not listed in {MANIFEST}; refused")
        if name in seen:
            raise E2VError(f"{what}: member {name} appears twice; refused")
        seen.add(name)
        target = out_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        src = tar.extractfile(m)
        block = src.read(1 << 20)
        if low.endswith(".safetensors"):
            check_safetensors(block, m.size, f"{what}: {name}")
        with open(target, "wb") as out:
            while block:
                h.update(block)
                out.write(block)
                block = src.read(1 << 20)
        if h.hexdigest() != listed[name].get("sha256"):
            raise E2VError(f"{what}: member {name} does not match its checksum in "
                           f"{MANIFEST} (corrupt or altered file)")
    missing = sorted(set(listed) - seen)
    if missing:
        raise E2VError(f"{what}: members listed in {MANIFEST} are missing: {', '.join(missing)}")
    (out_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def unpack(path: os.PathLike, dest_root: os.PathLike) -> Path:
    """Verify a packed model and extract it under `dest_root/<sha256 prefix>/` (reused if there).

    Returns the extracted directory. Refuses (E2VError) on any member that is not a listed,
    checksummed .json/.yaml/.txt/.safetensors plain file.
    """
    path = Path(path)
    digest = _sha256(path)[:16]
    dest_root = Path(dest_root)
    final = dest_root / digest
    if (final / MANIFEST).is_file():
        return final
    what = str(path)
    dest_root.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".unpack.", dir=dest_root)
    try:
        with _open_tar(path) as tar:
            _extract_verified(tar, what, Path(tmp))
        try:
            os.replace(tmp, final)
        except OSError:
            if not (final / MANIFEST).is_file():
                raise
            # another job unpacked the same file first: use its copy
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return final


__all__ = ["pack", "unpack", "read_manifest", "check_safetensors", "FORMAT",
           "FORMAT_VERSION", "MANIFEST"]
