"""utils/parallel/slurm.py: one Slurm array job per call (sbatch --array=A-B%M --parsable).

Every task's final state and exit code come from the controller (`scontrol show job`, which
keeps finished jobs for MinJobAge seconds), then from `sacct` where accounting is set up,
and only then from the task's log trailer.  A task the controller killed (out of memory,
time limit, cancel, node failure) or lost is reported, never waited on.
"""

from __future__ import annotations

import os
import re
from typing import Dict, List, Optional

from . import cluster
from .cluster import TaskStatus, expand_ids, run_quiet

# Pending reasons that resolve by themselves (anything else is worth telling the user).
_NORMAL_PENDING = {"None", "Priority", "Resources", "JobArrayTaskLimit", "BeginTime",
                   "Dependency", "QOSMaxJobsPerUserLimit", "AssocMaxJobsLimit", "Prolog",
                   "NodeDown", "ReqNodeNotAvail"}
_RUNNING = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED",
            "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED",
            "RESV_DEL_HOLD", "SPECIAL_EXIT", "POWER_UP_NODE"}


class Slurm(cluster.Backend):
    prog = "slurm.py"
    conf_name = "slurm.conf"

    def __init__(self):
        self.mem = self.time = None

    def submit_command(self, base, req, name, qdir, script, throttle):
        self.mem, self.time = req.options.get("mem"), req.options.get("time")
        array = f"{req.start}-{req.end}" + (f"%{throttle}" if throttle else "")
        return base + ["--parsable", f"--job-name={name}", f"--array={array}",
                       f"--output={os.path.join(qdir, name)}.%a.out", script]

    def parse_job_id(self, stdout):
        return stdout.strip().splitlines()[-1].split(";")[0].strip()

    def poll(self, job_id, req) -> Optional[Dict[int, TaskStatus]]:
        rc, out, err = run_quiet(["scontrol", "-o", "show", "job", job_id])
        if rc != 0:
            if "Invalid job id" in err:
                return {}
            return None
        statuses: Dict[int, TaskStatus] = {}
        for line in out.splitlines():
            f = dict(re.findall(r"(?:^|\s)(ArrayTaskId|JobState|ExitCode|Reason|JobId)=(\S+)", line))
            if "JobState" not in f:
                continue
            ids = expand_ids(f["ArrayTaskId"]) if "ArrayTaskId" in f else list(req.task_ids)
            st = self.status(f["JobState"], f.get("ExitCode", "0:0"), f.get("Reason", "None"),
                             f.get("JobId", job_id), req)
            for t in ids:
                statuses[t] = st
        return statuses

    def status(self, state: str, exit_code: str, reason: str, step: str, req) -> TaskStatus:
        state = state.rstrip("+")
        code, _, sig = exit_code.partition(":")
        code_i, sig_i = int(code or 0), int(sig or 0)
        if state in _RUNNING:
            note = "" if state != "PENDING" or reason in _NORMAL_PENDING else reason
            return TaskStatus(False, state=state, note=note)
        if state == "COMPLETED" and code_i == 0 and sig_i == 0:
            return TaskStatus(True, True, 0, state=state)
        mem = f" (--mem {self.mem})" if self.mem else ""
        limit = f" (--time {self.time})" if self.time else ""
        if state == "OUT_OF_MEMORY":
            why = f"killed by the scheduler: out of memory{mem}"
        elif state == "TIMEOUT":
            why = f"killed by the scheduler: time limit exceeded{limit}"
        elif state == "CANCELLED":
            why = "cancelled (scancel, or the scheduler/administrator)"
        elif state in ("NODE_FAIL", "BOOT_FAIL"):
            why = f"the node failed ({state})"
        elif state == "PREEMPTED":
            why = "preempted by the scheduler"
        elif state == "DEADLINE":
            why = "killed by the scheduler: deadline reached"
        elif sig_i:
            why = f"killed by signal {sig_i}"
        else:
            why = f"exit code {code_i}"
        return TaskStatus(True, False, code_i if not sig_i else 128 + sig_i,
                          f"{why} [Slurm {step}: {state}, ExitCode {exit_code}, Reason {reason}]",
                          state=state)

    def finished_status(self, job_id, task_id, call) -> Optional[TaskStatus]:
        rc, out, _ = run_quiet(["sacct", "-n", "-P", "-X", "-j", f"{job_id}_{task_id}",
                                "-o", "JobID,State,ExitCode"])
        if rc == 0:
            for line in out.splitlines():
                parts = line.split("|")
                if len(parts) == 3 and parts[0] == f"{job_id}_{task_id}":
                    state = parts[1].split()[0] if parts[1] else ""
                    if state:
                        st = self.status(state, parts[2], "None", parts[0], call.req)
                        if st.done:
                            st.reason += " (from sacct)"
                            return st
        return super().finished_status(job_id, task_id, call)

    def explain(self, call, task_id, st):
        # Without cgroups Slurm reports a memory kill as signal 9 (state FAILED); slurmstepd's
        # note in the task's scheduler output says what happened.
        out = os.path.join(call.qdir, f"{call.name}.{task_id}.out")
        try:
            with open(out, errors="replace") as f:
                text = f.read()[-20000:]
        except OSError:
            return st
        if re.search(r"exceeded (job )?memory limit|oom[-_ ]kill|out of memory", text, re.I) \
                and "out of memory" not in st.reason:
            mem = f" (--mem {self.mem})" if self.mem else ""
            st.reason = f"killed by the scheduler: out of memory{mem}; " + st.reason
        if "DUE TO TIME LIMIT" in text and "time limit" not in st.reason:
            st.reason = "killed by the scheduler: time limit exceeded; " + st.reason
        return st

    def cancel_command(self, job_id):
        return ["scancel", job_id]


def main(argv: Optional[List[str]] = None) -> int:
    return cluster.main(Slurm(), argv)
