#!/usr/bin/env bash
# Set up everything the toolkit needs on a fresh Debian machine with Python 3:
# system tools (apt-get, only those missing), a virtual environment in .venv, the
# emotion2vec package (editable) and its Python dependencies.
#
#   tools/setup.sh [--test]        --test also installs the test-only dependencies
#                                  (pytest, the FunASR reference port, slurm/munge)
#
# Environment:
#   TORCH_SPEC   pip requirement for torch (default: torch==2.13.0, the CPU build)
#   PYTHON       interpreter used to create the venv (default: python3)
#   E2V_VENV     venv location (default: <repo>/.venv)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
with_test=false
case "${1:-}" in
  --test) with_test=true ;;
  "") ;;
  -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
  *) echo "$0: unknown option '$1'" >&2; exit 2 ;;
esac

torch_spec=${TORCH_SPEC:-torch==2.13.0}
python=${PYTHON:-python3}
venv=${E2V_VENV:-$root/.venv}

# --- system tools -----------------------------------------------------------
need_cmds=(espeak-ng sox)
need_pkgs=(espeak-ng sox)
if $with_test; then
  # Live single-node Slurm and Grid Engine clusters for the launcher tests.
  need_cmds+=(shellcheck slurmctld slurmd sbatch munged sge_qmaster sge_execd qsub)
  need_pkgs+=(shellcheck slurmctld slurmd slurm-client munge gridengine-master gridengine-exec gridengine-client)
fi
missing=()
for i in "${!need_cmds[@]}"; do
  command -v "${need_cmds[$i]}" >/dev/null 2>&1 || [ -x "/usr/sbin/${need_cmds[$i]}" ] \
    || missing+=("${need_pkgs[$i]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- python -----------------------------------------------------------------
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv"
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
# Re-run pip only when the requirements changed (keeps `make test` fast on reruns).
stamp="$venv/.e2v-setup-stamp"
want="$(cat "$root/pyproject.toml" "$root/tools/requirements-test.txt"; echo "$torch_spec $with_test")"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
"$venv/bin/python" -c "import torch" 2>/dev/null || "${pip[@]}" "$torch_spec"
if $with_test; then
  "${pip[@]}" -e "${root}[test,hf]"
  "${pip[@]}" -r "$root/tools/requirements-test.txt"
  # The FunASR port is the reference emotion2vec implementation for parity tests only;
  # --no-deps keeps its heavy dependency tree (and kaldiio) out of the toolkit proper.
  "${pip[@]}" --no-deps funasr
else
  "${pip[@]}" -e "$root"
fi
printf '%s' "$want" > "$stamp"
echo "setup: done ($venv)"
