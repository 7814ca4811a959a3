"""utils/parallel/queue.py: one Grid Engine array job per call (qsub -t A-B -tc M -terse).

Grid Engine forgets a task once it ends, so a task that left `qstat` is judged by:
  1. its exit file <logdir>/q/<name>.exit.<n>, written atomically by the task itself after
     its command ended (the command's exit status);
  2. else `qacct` (the scheduler's accounting: `failed` / `exit_status`), which is how
     tasks killed by the scheduler (h_rt, h_vmem, qdel) are seen; accounting is written
     every flush_time (15 s by default), hence the grace period below;
  3. else, after that grace period, it vanished (reported as failed, never waited on).
Tasks in an error state (Eqw) are deleted and reported at once.
"""

from __future__ import annotations

import os
import re
from typing import Dict, List, Optional

from . import cluster
from .cluster import TaskStatus, expand_ids, run_quiet


class GridEngine(cluster.Backend):
    prog = "queue.py"
    conf_name = "queue.conf"
    default_vanish_grace = 90.0

    def __init__(self):
        self._acct: Optional[Dict[int, Dict[str, str]]] = None
        self.mem = self.time = None

    def submit_command(self, base, req, name, qdir, script, throttle):
        self.mem, self.time = req.options.get("mem"), req.options.get("time")
        cmd = base + ["-terse", "-N", name, "-t", f"{req.start}-{req.end}"]
        if throttle:
            cmd += ["-tc", str(throttle)]
        return cmd + ["-o", os.path.join(qdir, name) + ".$TASK_ID.out", "-j", "y", script]

    def parse_job_id(self, stdout):
        return stdout.strip().splitlines()[-1].split(".")[0].strip()

    def poll(self, job_id, req) -> Optional[Dict[int, TaskStatus]]:
        self._acct = None  # re-read accounting at most once per poll
        rc, out, _ = run_quiet(["qstat", "-g", "d", "-u", "*"])
        if rc != 0:
            return None
        statuses: Dict[int, TaskStatus] = {}
        errored: List[int] = []
        for line in out.splitlines():
            cols = line.split()
            if len(cols) < 6 or cols[0] != job_id:
                continue
            state = cols[4]
            ids = expand_ids(cols[-1]) if re.match(r"^\d", cols[-1]) and len(cols) >= 8 else req.task_ids
            for t in ids:
                if "E" in state:
                    errored.append(t)
                    statuses[t] = TaskStatus(True, False, None,
                                             f"Grid Engine error state ({state}); "
                                             f"see `qstat -j {job_id}`; the task was deleted",
                                             state=state)
                else:
                    statuses[t] = TaskStatus(False, state=state)
        for t in errored:
            run_quiet(["qdel", job_id, "-t", str(t)], timeout=30)
        return statuses

    def _accounting(self, job_id) -> Dict[int, Dict[str, str]]:
        if self._acct is None:
            self._acct = {}
            rc, out, _ = run_quiet(["qacct", "-j", job_id])
            if rc == 0:
                for block in re.split(r"^=+\s*$", out, flags=re.M):
                    rec = {}
                    for line in block.splitlines():
                        m = re.match(r"^(\w+)\s+(.*?)\s*$", line)
                        if m:
                            rec[m.group(1)] = m.group(2)
                    if rec.get("jobnumber") == job_id and re.match(r"^\d+$", rec.get("taskid", "")):
                        self._acct[int(rec["taskid"])] = rec
        return self._acct

    def finished_status(self, job_id, task_id, call) -> Optional[TaskStatus]:
        try:
            with open(call.exit_prefix + str(task_id)) as f:
                code = int(f.read().strip())
            return TaskStatus(True, code == 0, code, f"exit code {code}")
        except (OSError, ValueError):
            pass
        rec = self._accounting(job_id).get(task_id)
        if rec is None:
            return None
        failed = " ".join(rec.get("failed", "0").split()).replace(" :", ":")
        m = re.match(r"^(\d+)", rec.get("exit_status", "0"))
        code = int(m.group(1)) if m else 0
        if failed.split()[0] == "0" and code == 0:
            # Accounting says success but the task wrote no exit file: it did not run to the end.
            return TaskStatus(True, False, None, "no exit status from the task although Grid "
                              "Engine accounting reports success (check the log)")
        limits = []
        if self.time:
            limits.append(f"--time {self.time}")
        if self.mem:
            limits.append(f"--mem {self.mem}")
        hint = f" ({', '.join(limits)})" if limits else ""
        if failed.split()[0] != "0":
            why = f"killed by the scheduler ({failed}){hint} [qacct: exit_status {code}]"
        elif code > 128:
            why = f"killed by signal {code - 128}{hint} [qacct: exit_status {code}]"
        else:
            why = f"exit code {code} [qacct]"
        return TaskStatus(True, False, code, why)

    def cancel_command(self, job_id):
        return ["qdel", job_id]


def main(argv: Optional[List[str]] = None) -> int:
    return cluster.main(GridEngine(), argv)
