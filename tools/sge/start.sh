#!/usr/bin/env bash
# Start a real single-node Grid Engine (SGE 8.1, Debian's gridengine-*) on this machine,
# for tests and demos.
#
#   tools/sge/start.sh [--slots N] <state-dir>
#
# Needs root and the packages gridengine-master gridengine-exec gridengine-client.
# Everything lives in <state-dir>: an SGE_ROOT made of links to the installed binaries, a
# cell "e2v" (classic spooling), the spool directories, and free ports picked at start.
# Prints the environment to use it (eval "$(tools/sge/start.sh DIR)"):
#   export SGE_ROOT=... SGE_CELL=e2v SGE_QMASTER_PORT=... SGE_EXECD_PORT=... PATH=...
# Stop it with tools/sge/stop.sh <state-dir>.
set -euo pipefail

# Begin configuration section.
slots=           # job slots of the queue all.q (default: nproc)
timeout=60       # seconds to wait for the daemons
# End configuration section.

help_message="Usage: $0 [options] <state-dir>
Start a single-node Grid Engine whose files live in <state-dir>."
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
. "$root/utils/parse_options.sh"

if [ $# -ne 1 ]; then
  printf '%s\n' "$help_message" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "$0: error: must run as root" >&2
  exit 1
fi
sys_root=/var/lib/gridengine
libexec=/usr/lib/gridengine
for f in /usr/sbin/sge_qmaster /usr/sbin/sge_execd "$libexec/spoolinit" "$libexec/spooldefaults" \
  "$libexec/qconf" "$libexec/qsub"; do
  if [ ! -x "$f" ]; then
    echo "$0: error: $f not found; install gridengine-master gridengine-exec gridengine-client" >&2
    exit 1
  fi
done

mkdir -p "$1"
dir=$(cd "$1" && pwd)
[ -n "$slots" ] || slots=$(nproc)
cell=e2v
export SGE_ROOT=$dir/root SGE_CELL=$cell
rm -rf "$SGE_ROOT" "$dir/spool"
mkdir -p "$SGE_ROOT/$cell/common" "$dir/spool/qmaster" "$dir/spool/execd" "$dir/conf"
for sub in bin lib utilbin util; do
  ln -s "$sys_root/$sub" "$SGE_ROOT/$sub"
done

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
SGE_QMASTER_PORT=$(free_port)
SGE_EXECD_PORT=$(free_port)
while [ "$SGE_EXECD_PORT" = "$SGE_QMASTER_PORT" ]; do SGE_EXECD_PORT=$(free_port); done
export SGE_QMASTER_PORT SGE_EXECD_PORT
export PATH="$libexec:$PATH"

common=$SGE_ROOT/$cell/common
# Clients connect from 127.0.0.1 ("localhost") but call themselves $(hostname): one host.
echo localhost >"$common/act_qmaster"
echo "localhost $(hostname)" >"$common/host_aliases"
cat >"$common/bootstrap" <<CONF
admin_user              none
default_domain          none
ignore_fqdn             true
spooling_method         classic
spooling_lib            libspoolc
spooling_params         $common;$dir/spool/qmaster
binary_path             /usr/sbin
qmaster_spool_dir       $dir/spool/qmaster
security_mode           none
listener_threads        2
worker_threads          2
scheduler_threads       1
CONF
# Root may run jobs (min_uid 0); accounting is flushed every second so qacct sees finished
# tasks at once.
sed -e "s#^execd_spool_dir .*#execd_spool_dir $dir/spool/execd#" \
  -e 's/^min_uid .*/min_uid 0/' -e 's/^min_gid .*/min_gid 0/' \
  -e 's/flush_time=[0-9:]*/flush_time=00:00:01/' \
  -e 's/^load_report_time .*/load_report_time 00:00:05/' \
  /usr/share/gridengine/default-configuration >"$dir/conf/global"
spoolinit classic libspoolc "$common;$dir/spool/qmaster" init >/dev/null
spooldefaults configuration "$dir/conf/global"
spooldefaults complexes /usr/share/gridengine/util/resources/centry
spooldefaults usersets /usr/share/gridengine/util/resources/usersets
spooldefaults managers root

/usr/sbin/sge_qmaster
ok=false
for _ in $(seq $((timeout * 5))); do
  if qconf -sh >/dev/null 2>&1; then ok=true; break; fi
  sleep 0.2
done
if ! $ok; then
  echo "$0: error: sge_qmaster did not answer within ${timeout}s; see $dir/spool/qmaster/messages" >&2
  exit 1
fi

qconf -as localhost >/dev/null
cat >"$dir/conf/host" <<CONF
hostname localhost
load_scaling NONE
complex_values NONE
user_lists NONE
xuser_lists NONE
projects NONE
xprojects NONE
usage_scaling NONE
report_variables NONE
CONF
qconf -Ae "$dir/conf/host" >/dev/null
cat >"$dir/conf/pe" <<'CONF'
pe_name            smp
slots              999
user_lists         NONE
xuser_lists        NONE
start_proc_args    NONE
stop_proc_args     NONE
allocation_rule    $pe_slots
control_slaves     FALSE
job_is_first_task  TRUE
urgency_slots      min
accounting_summary FALSE
qsort_args         NONE
CONF
qconf -Ap "$dir/conf/pe" >/dev/null
{
  printf '%-20s %s\n' qname all.q hostlist localhost seq_no 0 load_thresholds NONE \
    suspend_thresholds NONE nsuspend 1 suspend_interval 00:05:00 priority 0 \
    min_cpu_interval 00:05:00 processors UNDEFINED qtype "BATCH INTERACTIVE" ckpt_list NONE \
    pe_list smp rerun FALSE slots "$slots" tmpdir /tmp shell /bin/bash prolog NONE \
    epilog NONE shell_start_mode posix_compliant starter_method NONE suspend_method NONE \
    resume_method NONE terminate_method NONE notify 00:00:60 owner_list NONE \
    user_lists NONE xuser_lists NONE subordinate_list NONE complex_values NONE \
    projects NONE xprojects NONE calendar NONE initial_state default
  for lim in rt cpu fsize data stack core rss vmem; do
    printf '%-20s %s\n' "s_$lim" INFINITY "h_$lim" INFINITY
  done
} >"$dir/conf/queue"
qconf -Aq "$dir/conf/queue" >/dev/null
qconf -ssconf | sed 's/^schedule_interval .*/schedule_interval 0:0:1/' >"$dir/conf/sched"
qconf -Msconf "$dir/conf/sched" >/dev/null

/usr/sbin/sge_execd
ok=false
for _ in $(seq $((timeout * 5))); do
  # The queue instance is usable once the execd reported (no 'u'nknown state).
  if qstat -f -q all.q 2>/dev/null | awk '$1 == "all.q@localhost" {found = 1; if (NF >= 6) bad = 1} END {exit !(found && !bad)}'; then
    ok=true; break
  fi
  sleep 0.2
done
if ! $ok; then
  echo "$0: error: the execution host did not come up within ${timeout}s; see $dir/spool/execd/" >&2
  qstat -f >&2 || true
  exit 1
fi
echo "export SGE_ROOT=$SGE_ROOT SGE_CELL=$SGE_CELL SGE_QMASTER_PORT=$SGE_QMASTER_PORT" \
  "SGE_EXECD_PORT=$SGE_EXECD_PORT PATH=$libexec:\$PATH"
