# shellcheck shell=bash
# Sourced by every recipe and inside every job: cheap and idempotent.
# Works through the symlinks in egs/<corpus>/ (it finds the real repository root).
E2V_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
export E2V_ROOT
if [ -z "${E2V_PATH_DONE:-}" ] || [ "${E2V_PATH_DONE}" != "$E2V_ROOT" ]; then
  export PATH="$E2V_ROOT/utils:$E2V_ROOT/utils/parallel:$E2V_ROOT/steps:$PATH"
  export E2V_PATH_DONE=$E2V_ROOT
fi
# The project's virtual environment (tools/setup.sh makes it); E2V_VENV overrides.
_e2v_venv=${E2V_VENV:-$E2V_ROOT/.venv}
if [ -x "$_e2v_venv/bin/python" ]; then
  case ":$PATH:" in
    *":$_e2v_venv/bin:"*) ;;
    *) export PATH="$_e2v_venv/bin:$PATH"; export VIRTUAL_ENV=$_e2v_venv ;;
  esac
else
  echo "path.sh: no virtual environment at $_e2v_venv; run tools/setup.sh (or make setup) first" >&2
fi
unset _e2v_venv
export LC_ALL=C
export PYTHONUNBUFFERED=1
# One thread per job unless the launcher (--num-threads) or the user says otherwise:
# several jobs share the machine, and oversubscribed BLAS threads are slower, not faster.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export MKL_NUM_THREADS=${MKL_NUM_THREADS:-$OMP_NUM_THREADS}
