"""Cluster configuration files in Kaldi's grammar (conf/slurm.conf, conf/queue.conf):

    command sbatch --export=PATH        # the submit command and its fixed arguments
    option mem=* --mem $0               # --mem X adds `--mem X` ($0 = the value)
    option mem=0                        # an exact value wins over `*` (here: add nothing)
    default gpu=0                       # the value used when the option is not given
    option gpu=0
    option gpu=* --gres=gpu:$0

An option given (or defaulted) that no `option` line describes is an error.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .cli import UsageError

_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


@dataclass
class ClusterConfig:
    path: str
    command: List[str] = field(default_factory=list)
    # (line number, name, value or "*", argument words)
    options: List[Tuple[int, str, str, List[str]]] = field(default_factory=list)
    defaults: Dict[str, str] = field(default_factory=dict)

    def describes(self, name: str) -> bool:
        return any(n == name for _, n, _, _ in self.options)

    def resolve(self, given: Dict[str, str]) -> List[str]:
        """Submit-command arguments for the given options (defaults filled in)."""
        values = dict(self.defaults)
        values.update(given)
        chosen = []
        for name, value in values.items():
            exact = [o for o in self.options if o[1] == name and o[2] == value]
            star = [o for o in self.options if o[1] == name and o[2] == "*"]
            if exact:
                chosen.append((exact[0][0], exact[0][3]))
            elif star:
                chosen.append((star[0][0], [w.replace("$0", value) for w in star[0][3]]))
            else:
                raise UsageError(f"option --{name.replace('_', '-')} {value} is not described in "
                                 f"{self.path} (add e.g. 'option {name}=* ...' there)")
        args: List[str] = []
        for _, words in sorted(chosen, key=lambda c: c[0]):
            args += words
        return args


def parse_config(path: str, text: Optional[str] = None) -> ClusterConfig:
    if text is None:
        try:
            with open(path) as f:
                text = f.read()
        except OSError as e:
            raise UsageError(f"cannot read config file {path}: {e.strerror}")
    cfg = ClusterConfig(path)
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        try:
            words = shlex.split(line)
        except ValueError as e:
            raise UsageError(f"{path} line {lineno}: {e}: {raw.strip()}")
        kind, rest = words[0], words[1:]
        if kind == "command":
            if not rest:
                raise UsageError(f"{path} line {lineno}: 'command' needs the submit command")
            cfg.command = rest
            continue
        if kind in ("option", "default") and rest:
            m = _ASSIGN.match(rest[0])
            if m:
                if kind == "default":
                    if len(rest) != 1:
                        raise UsageError(f"{path} line {lineno}: expected 'default name=value'")
                    cfg.defaults[m.group(1)] = m.group(2)
                else:
                    cfg.options.append((lineno, m.group(1), m.group(2), rest[1:]))
                continue
        raise UsageError(f"{path} line {lineno}: expected 'command ...', 'option name=value ...' "
                         f"or 'default name=value', got: {raw.strip()}")
    if not cfg.command:
        raise UsageError(f"{path}: no 'command' line")
    return cfg
