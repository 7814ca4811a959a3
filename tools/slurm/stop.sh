#!/usr/bin/env bash
# Stop a cluster started by tools/slurm/start.sh <state-dir> (daemons found by their pid
# files; munged only if start.sh started it and no other cluster still runs).  Safe to run twice.
#
#   tools/slurm/stop.sh <state-dir>
set -euo pipefail

if [ $# -ne 1 ] || [ "$1" = --help ] || [ "$1" = -h ]; then
  echo "Usage: $0 <state-dir>" >&2
  [ $# -eq 1 ] && exit 0
  exit 2
fi
dir=$1

stop_pid_file() {
  local f=$1 pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$f"
}

# Cancel what is left so slurmd has no job steps to wait for.
if [ -f "$dir/slurm.conf" ] && [ -s "$dir/slurmctld.pid" ] && command -v scancel >/dev/null; then
  SLURM_CONF=$dir/slurm.conf timeout 10 scancel --user=root >/dev/null 2>&1 || true
fi
stop_pid_file "$dir/slurmd.pid"
stop_pid_file "$dir/slurmctld.pid"
# munged is shared by every cluster on this machine: stop it only if we started it and no
# other Slurm daemon is left to use it.
if [ -f "$dir/munged.started" ]; then
  if ! pgrep -x slurmctld >/dev/null 2>&1 && ! pgrep -x slurmd >/dev/null 2>&1; then
    stop_pid_file /run/munge/munged.pid
  fi
  rm -f "$dir/munged.started"
fi
