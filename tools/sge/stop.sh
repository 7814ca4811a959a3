#!/usr/bin/env bash
# Stop a Grid Engine started by tools/sge/start.sh <state-dir> (daemons found by their pid
# files).  Safe to run twice.
#
#   tools/sge/stop.sh <state-dir>
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
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$f"
}

for f in "$dir"/spool/execd/*/execd.pid; do
  [ -e "$f" ] && stop_pid_file "$f"
done
stop_pid_file "$dir/spool/qmaster/qmaster.pid"
