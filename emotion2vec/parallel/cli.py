"""The launchers' command line (Kaldi's run.pl / queue.pl / slurm.pl grammar)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

# Options every launcher understands; the cluster ones map them through the config file.
KNOWN_OPTIONS = ("mem", "gpu", "num_threads", "max_jobs_run", "time", "config")
_JOB_RANGE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(\d+):(\d+)$")
_JOB_SINGLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(\d+)$")


class UsageError(Exception):
    """Bad launcher command line: reported as `<prog>: error: ...` with exit status 2."""


@dataclass
class Request:
    """A parsed launcher call."""

    options: Dict[str, str] = field(default_factory=dict)  # name (underscores) -> value
    raw_options: List[str] = field(default_factory=list)   # single-dash scheduler switches
    jobname: Optional[str] = None                          # "JOB" in JOB=1:N
    start: int = 1
    end: int = 1
    log: str = ""
    command: str = ""

    @property
    def task_ids(self) -> List[int]:
        return list(range(self.start, self.end + 1))

    def int_option(self, name: str, default: int, minimum: int) -> int:
        if name not in self.options:
            return default
        value = self.options[name]
        try:
            n = int(value)
        except ValueError:
            n = minimum - 1
        if n < minimum:
            raise UsageError(f"--{name.replace('_', '-')} expects an integer >= {minimum}, got '{value}'")
        return n

    def log_for(self, task: int) -> str:
        return substitute(self.log, self.jobname, task)

    def command_for(self, task: int) -> str:
        return substitute(self.command, self.jobname, task)


def substitute(text: str, jobname: Optional[str], task: int) -> str:
    """Replace `jobname` as a whole word only (Kaldi's run.pl also rewrites MYJOB -> MY1)."""
    if not jobname:
        return text
    return re.sub(r"(?<![A-Za-z0-9_])" + re.escape(jobname) + r"(?![A-Za-z0-9_])", str(task), text)


def join_command(words: List[str]) -> str:
    """The shell command line for the command words, exactly as Kaldi's launchers build it:
    a word without white space is kept as is (so an escaped `\\|` or `>` stays shell syntax),
    others are quoted.  A single word is taken as a whole shell command line (an extension:
    Kaldi would quote it and try to run a program named after the whole string)."""
    if len(words) == 1:
        return words[0]
    out = []
    for w in words:
        if w and not re.search(r"\s", w):
            out.append(w)
        elif '"' in w:
            out.append("'" + w + "'")
        else:
            out.append('"' + w + '"')
    return " ".join(out)


def _parse_options(args: List[str], req: Request) -> None:
    while args and args[0].startswith("-") and len(args[0]) > 1 and not _is_number(args[0]):
        a = args.pop(0)
        if a.startswith("--"):
            if "=" in a:
                name, value = a[2:].split("=", 1)
            else:
                if not args:
                    raise UsageError(f"option '{a}' needs a value")
                name, value = a[2:], args.pop(0)
            key = name.replace("-", "_")
            if key not in KNOWN_OPTIONS:
                raise UsageError(f"unknown option '--{name}' (known: "
                                 + ", ".join("--" + k.replace("_", "-") for k in KNOWN_OPTIONS) + ")")
            req.options[key] = value
        elif a == "-V":  # qsub's "export the environment": no value
            req.raw_options.append(a)
        else:
            nvals = 2 if a == "-pe" else 1  # -pe smp 4
            if len(args) < nvals:
                raise UsageError(f"option '{a}' needs {'two values' if nvals == 2 else 'a value'}")
            values = [args.pop(0) for _ in range(nvals)]
            if a == "-tc":  # Grid Engine's spelling of --max-jobs-run (run.pl honours it too)
                req.options["max_jobs_run"] = values[0]
            else:
                req.raw_options += [a, *values]


def parse_args(argv: List[str]) -> Request:
    """Parse `[options] [JOB=a:b] [options] <log> <command...>` (Kaldi's grammar: the job range
    may come before or after the options).  Options: `--name value` or `--name=value` from
    KNOWN_OPTIONS; single-dash scheduler switches (`-l arch=*64`, `-pe smp 4`, `-V`) are
    collected in `raw_options` (the cluster launchers pass them on, run.py ignores them as
    Kaldi's run.pl does); `-tc N` means --max-jobs-run N.
    """
    req = Request()
    args = list(argv)
    _parse_options(args, req)
    if args:
        m = _JOB_RANGE.match(args[0]) or _JOB_SINGLE.match(args[0])
        if m:
            args.pop(0)
            req.jobname = m.group(1)
            req.start = int(m.group(2))
            req.end = int(m.group(3)) if m.lastindex == 3 else req.start
            if req.start < 1 or req.end < req.start:
                raise UsageError(f"bad job range '{req.jobname}={m.group(2)}:{m.group(3)}' "
                                 "(need 1 <= start <= end)")
            _parse_options(args, req)
        elif re.match(r"^[A-Za-z_][A-Za-z0-9_]*=\S*:\S*$", args[0]):
            raise UsageError(f"bad job range '{args[0]}' (expected e.g. JOB=1:4)")
    if not args:
        raise UsageError("missing the log file and the command")
    req.log = args.pop(0)
    if not args:
        raise UsageError(f"missing the command after the log file '{req.log}'")
    req.command = join_command(args)
    if req.jobname and req.end > req.start and not substitute_changes(req.log, req.jobname):
        raise UsageError(f"{req.end - req.start + 1} tasks would share one log file '{req.log}' "
                         f"(put {req.jobname} in its name, e.g. x.{req.jobname}.log)")
    return req


def substitute_changes(text: str, jobname: str) -> bool:
    return substitute(text, jobname, 0) != text


def _is_number(s: str) -> bool:
    return re.match(r"^-\d", s) is not None


USAGE = """\
usage: {prog} [options] [JOB=1:N] <log-file> <command ...>
  JOB in the log file and the command becomes the task number (whole word only).
options:
  --mem X            memory per task (e.g. 4G){mem_note}
  --gpu N            GPUs per task{gpu_note}
  --num-threads N    threads per task (exported as OMP_NUM_THREADS / MKL_NUM_THREADS)
  --max-jobs-run N   tasks running at the same time{mjr_note}
  --time T           time limit per task (e.g. 2:00:00){time_note}
  --config FILE      cluster configuration (Kaldi grammar){config_note}
Exit status 0 only if every task succeeded; 1 if any failed; 2 for usage errors."""
