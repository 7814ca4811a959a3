"""The released emotion2vec models by name, and where their files come from.

Every released id resolves, with or without its hub prefix (`iic/` on ModelScope, `emotion2vec/`
on Hugging Face, the older `damo/`), and with an optional `@<revision>` pin:

    emotion2vec_plus_large   iic/emotion2vec_plus_large   emotion2vec/emotion2vec_plus_large@main

Files live in the local cache, `$EMOTION2VEC_CACHE/<name>/` (default `~/.cache/emotion2vec`;
`<name>@<revision>/` for a pinned revision).  A name whose weights are missing there is
downloaded from the chosen hub (`hub=`, else `$EMOTION2VEC_HUB`, else hf): `hf` (Hugging Face, with `huggingface_hub`) or `ms`
(ModelScope: the `modelscope` package when installed, else its public file URLs).  A model that
one hub does not publish comes from the other (the table says which).  Offline, the error names
the files to place and the directory to place them in.  A local path always wins over an id.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from emotion2vec.errors import E2VError

CACHE_ENV = "EMOTION2VEC_CACHE"
MS_ENDPOINT_ENV = "EMOTION2VEC_MODELSCOPE_ENDPOINT"   # a mirror of modelscope.cn (tests: local)
MS_ENDPOINT = "https://modelscope.cn"
HUB_ENV = "EMOTION2VEC_HUB"           # the hub when the caller names none (default hf)
HUBS = ("hf", "ms")
HUB_ALIASES = {"hf": "hf", "huggingface": "hf", "ms": "ms", "modelscope": "ms"}
PREFIXES = ("iic/", "emotion2vec/", "damo/")


@dataclass(frozen=True)
class Released:
    hf: Optional[str]          # Hugging Face repo (None: not published there)
    ms: Optional[str]          # ModelScope repo
    weights: str               # the weights file in the repo
    num_classes: int           # 0: features only (no emotion head)

    @property
    def files(self) -> List[str]:
        """What a user places in the cache directory by hand."""
        return [self.weights] + (["config.yaml", "tokens.txt"] if self.num_classes else [])


RELEASED: Dict[str, Released] = {
    "emotion2vec_base": Released("emotion2vec/emotion2vec_base", "iic/emotion2vec_base",
                                 "emotion2vec_base.pt", 0),
    "emotion2vec_base_finetuned": Released(None, "iic/emotion2vec_base_finetuned", "model.pt", 9),
    "emotion2vec_plus_seed": Released("emotion2vec/emotion2vec_plus_seed",
                                      "iic/emotion2vec_plus_seed", "model.pt", 9),
    "emotion2vec_plus_base": Released("emotion2vec/emotion2vec_plus_base",
                                      "iic/emotion2vec_plus_base", "model.pt", 9),
    "emotion2vec_plus_large": Released("emotion2vec/emotion2vec_plus_large",
                                       "iic/emotion2vec_plus_large", "model.pt", 9),
}


def cache_dir() -> Path:
    """Root of the local model cache: $EMOTION2VEC_CACHE, else ~/.cache/emotion2vec."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "emotion2vec"


def check_hub(hub: Optional[str]) -> str:
    """hf | ms (aliases huggingface, modelscope); None: $EMOTION2VEC_HUB, else hf."""
    if hub is None:
        hub = os.environ.get(HUB_ENV) or "hf"
    h = HUB_ALIASES.get(str(hub).lower())
    if h is None:
        raise E2VError(f"hub '{hub}' not one of hf (huggingface), ms (modelscope)")
    return h


def parse_id(spec: str) -> Optional[Tuple[str, Optional[str]]]:
    """(released name, revision or None) when `spec` names a released model, else None."""
    s, _, rev = str(spec).partition("@")
    for p in PREFIXES:
        if s.startswith(p):
            s = s[len(p):]
            break
    if s not in RELEASED:
        return None
    return s, (rev or None)


def model_dir(name: str, revision: Optional[str] = None) -> Path:
    return cache_dir() / (f"{name}@{revision}" if revision else name)


def _hint(name: str, target: Path) -> str:
    r = RELEASED[name]
    where = " or ".join(u for u in (r.hf and f"https://huggingface.co/{r.hf}",
                                    r.ms and f"https://modelscope.cn/models/{r.ms}") if u)
    return (f"place {', '.join(r.files)} from {where} in {target}/ (or set {CACHE_ENV} to a "
            "directory holding <name>/ with them)")


def _from_hf(repo: str, r: Released, revision: Optional[str], target: Path) -> None:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise E2VError("huggingface_hub is not installed (pip install huggingface_hub)") from None
    snapshot_download(repo_id=repo, revision=revision, local_dir=str(target),
                      allow_patterns=r.files)


def _ms_url(repo: str, revision: Optional[str], name: str) -> str:
    base = os.environ.get(MS_ENDPOINT_ENV, MS_ENDPOINT).rstrip("/")
    q = urllib.parse.urlencode({"Revision": revision or "master", "FilePath": name})
    return f"{base}/api/v1/models/{repo}/repo?{q}"


def _from_ms(repo: str, r: Released, revision: Optional[str], target: Path) -> None:
    """ModelScope: its package when installed (it knows mirrors and auth), else plain HTTP."""
    if MS_ENDPOINT_ENV not in os.environ:
        try:
            from modelscope.hub.snapshot_download import snapshot_download
        except ImportError:
            pass
        else:
            snapshot_download(repo, revision=revision or "master", local_dir=str(target),
                              allow_file_pattern=r.files)
            return
    target.mkdir(parents=True, exist_ok=True)
    for name in r.files:
        try:
            with urllib.request.urlopen(_ms_url(repo, revision, name), timeout=60) as resp:
                fd, tmp = tempfile.mkstemp(dir=target, prefix=f".{name}.")
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(resp, out, 1 << 20)
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and name != r.weights:
                continue                      # config.yaml / tokens.txt: optional
            raise
        os.replace(tmp, target / name)        # a killed download never looks complete


def download(name: str, revision: Optional[str], hub: Optional[str], target: Path) -> None:
    """The released model's files into `target` (a clear error when that is impossible)."""
    r = RELEASED[name]
    hub = check_hub(hub)
    order = [h for h in (hub, "ms" if hub == "hf" else "hf") if getattr(r, h)]
    use = order[0]
    try:
        (_from_hf if use == "hf" else _from_ms)(getattr(r, use), r, revision, target)
    except E2VError as exc:
        raise E2VError(f"model {name} is not in the local cache: {exc}; or "
                       f"{_hint(name, target)}") from None
    except Exception as exc:  # noqa: BLE001 - offline, no such repo or revision, ...
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise E2VError(f"model {name} is not in the local cache and could not be downloaded "
                       f"from {'Hugging Face' if use == 'hf' else 'ModelScope'} "
                       f"{getattr(r, use)}{'@' + revision if revision else ''} "
                       f"({type(exc).__name__}: {first}); {_hint(name, target)}") from None
    if not (target / r.weights).is_file():
        raise E2VError(f"download of {name} did not produce {r.weights}; {_hint(name, target)}")


def resolve_released(spec: str, hub: Optional[str] = None) -> Optional[Path]:
    """The weights file of a released id (downloaded when missing), or None for other specs."""
    parsed = parse_id(spec)
    if parsed is None:
        return None
    name, revision = parsed
    d = model_dir(name, revision)
    if not (d / RELEASED[name].weights).is_file():
        download(name, revision, hub, d)
    return d / RELEASED[name].weights


def resolve_spec(spec, hub: Optional[str] = None) -> Path:
    """A released id, a directory or a file -> the weights file to load (a local path wins)."""
    s = str(spec)
    p = Path(s).expanduser()
    if p.is_dir():
        for name in ("model.pt", "emotion2vec_base.pt", "model.safetensors"):
            if (p / name).is_file():
                return p / name
        pts = sorted(p.glob("*.pt"))
        if len(pts) == 1:
            return pts[0]
        raise E2VError(f"model directory {p} holds no model.pt (nor exactly one *.pt file)")
    if p.is_file():
        return p
    weights = resolve_released(s, hub)
    if weights is not None:
        return weights
    raise E2VError(f"model {s!r} is neither a released name ({', '.join(RELEASED)}, optionally "
                   f"with iic/ or emotion2vec/ and @<revision>), a directory nor a checkpoint file")


__all__ = ["RELEASED", "Released", "CACHE_ENV", "HUBS", "cache_dir", "check_hub", "parse_id",
           "HUB_ENV", "model_dir", "download", "resolve_released", "resolve_spec"]
