"""Head configurations: the YAML shipped with the package (`emotion2vec/heads/conf/<head>.yaml`,
package data) or the user's own file (`--config`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Dict, Optional

import yaml

from emotion2vec.errors import E2VError
from emotion2vec.heads.registry import head_class


def default_config(head: str):
    """The shipped configuration file of `head` (an importlib.resources Traversable)."""
    return resources.files("emotion2vec.heads") / "conf" / f"{head}.yaml"


def load_config(head: str, config: Optional[str]) -> Dict:
    """The head's YAML configuration: `config` if given, else the shipped <head>.yaml."""
    head_class(head)  # unknown heads fail here, naming the known ones
    path = Path(config) if config else default_config(head)
    if not path.is_file():
        if config:
            raise E2VError(f"{path}: no such head configuration file")
        return {}
    try:
        cfg = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise E2VError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(cfg, dict):
        raise E2VError(f"{path}: want a mapping of options")
    if cfg.get("head", head) != head:
        raise E2VError(f"{path}: configuration is for head '{cfg['head']}', not '{head}'")
    cfg.pop("head", None)
    return cfg


__all__ = ["default_config", "load_config"]
