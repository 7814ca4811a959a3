# shellcheck shell=bash
# Kaldi-style option parsing.  SOURCE this (do not run it) after the script's
#     # Begin configuration section.
#     nj=4          # number of parallel jobs
#     # End configuration section.
# block:  `. "$root/utils/parse_options.sh"`.  Afterwards "$@" holds the positional
# arguments.
#
# Semantics (Kaldi's, minus its traps):
#   --foo-bar 3 | --foo-bar=3   set the variable foo_bar of the configuration block
#                               (or, for scripts without such a block, any defined variable)
#   --help | -h                 print $help_message, then every option of the block with
#                               its default and trailing comment (and "here: V" when the options
#                               before --help set it to V, e.g. a recipe's own defaults); exit 0
#   --config FILE               read options from FILE before the command line (which wins):
#                               one `--name=value`, `--name value` or `name=value` a line,
#                               `#` comments and blank lines ignored.  Repeatable.
#   --                          end of options
# Forwarding: a caller that sets `po_forward=<script>` (e.g. local/data.sh) before sourcing
# also accepts every option of that script's configuration block (except the names in
# `po_forward_skip`); they are not set here but collected, in order, in the array
# `po_forwarded` (`--name value` pairs) for the caller to pass on, and --help lists them
# under their own heading. A name declared in both blocks is an error.
# Errors (message names the option, exit 2): unknown option, an option with no value,
# a value other than true/false for a variable whose default is true/false, and an
# option placed after the first positional argument (Kaldi would silently take it as a
# positional; use `--` before positionals that really start with `--`).
#
# Everything here is prefixed _po_ and removed at the end, so the caller's namespace stays
# clean.  Works under `set -euo pipefail`.

_po_script=${BASH_SOURCE[1]:-$0}

# Names of the options declared in a script's configuration block (plain assignments,
# or `local`/`export`/`declare` ones).
_po_decl='^[[:space:]]*((local|export|declare|typeset)([[:space:]]+-[a-zA-Z]+)*[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$'
_po_block_of() {
  sed -n '/^[[:space:]]*# *Begin configuration section/,/^[[:space:]]*# *End configuration section/p' "$1"
}
_po_names_of() {
  local line
  while IFS= read -r line; do
    if [[ $line =~ $_po_decl ]]; then printf '%s\n' "${BASH_REMATCH[4]}"; fi
  done < <(_po_block_of "$1")
}
_po_names=()
_po_block=false
if [ -f "$_po_script" ] && grep -q '^[[:space:]]*# *Begin configuration section' "$_po_script"; then
  _po_block=true
  mapfile -t _po_names < <(_po_names_of "$_po_script")
fi
# The defaults, as the block set them (--help shows them beside what the options made them).
declare -A _po_default=()
for _po_n in ${_po_names[@]+"${_po_names[@]}"}; do _po_default[$_po_n]=${!_po_n-}; done
# Options left to the toolkit's true/false default (`x=  # ... ('' = the toolkit default (false))`)
# take true, false or '' only, like options whose default is true or false.
declare -A _po_bool=()
if $_po_block; then
  while IFS= read -r _po_line; do
    if [[ $_po_line =~ ^([A-Za-z_][A-Za-z0-9_]*)=[[:space:]]+#.*\(\'\'\ =\ the\ toolkit\ default\ \((true|false)\)\) ]]; then
      _po_bool[${BASH_REMATCH[1]}]=1
    fi
  done < <(_po_block_of "$_po_script")
fi
_po_fwd_names=()
po_forwarded=()
if [ -n "${po_forward:-}" ]; then
  [ -f "$po_forward" ] || { echo "$0: error: no such script to forward options to: $po_forward" >&2; exit 2; }
  for _po_n in $(_po_names_of "$po_forward"); do
    case " ${po_forward_skip:-} " in *" $_po_n "*) continue ;; esac
    for _po_a in ${_po_names[@]+"${_po_names[@]}"}; do
      if [ "$_po_a" = "$_po_n" ]; then
        echo "$0: error: option --${_po_n//_/-} is declared both here and in $po_forward" >&2; exit 2
      fi
    done
    _po_fwd_names+=("$_po_n")
  done
fi

_po_die() {
  echo "$0: error: $*" >&2
  echo "$0: see '$0 --help' for the options" >&2
  exit 2
}

# _po_is_option NAME: true if --NAME (underscores) may be set.
_po_is_option() {
  local n=$1 x
  [[ $n =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || return 1
  case $n in _po_*|help_message) return 1 ;; esac
  if $_po_block; then
    for x in "${_po_names[@]}"; do [ "$x" = "$n" ] && return 0; done
    return 1
  fi
  declare -p "$n" >/dev/null 2>&1
}

# _po_set OPTION-AS-WRITTEN NAME VALUE
_po_set() {
  local opt=$1 n=$2 v=$3 old x
  for x in ${_po_fwd_names[@]+"${_po_fwd_names[@]}"}; do
    if [ "$x" = "$n" ]; then po_forwarded+=("--${n//_/-}" "$v"); return 0; fi
  done
  _po_is_option "$n" || _po_die "unknown option '$opt'"
  old=${!n-}
  if [ "$old" = true ] || [ "$old" = false ] || { [ -n "${_po_bool[$n]-}" ] && [ -n "$v" ]; }; then
    if [ "$v" != true ] && [ "$v" != false ]; then
      _po_die "option '$opt' expects true or false, got '$v'"
    fi
  fi
  printf -v "$n" '%s' "$v"
}

_po_help() {
  if [ -n "${help_message:-}" ]; then
    printf '%s\n' "$help_message"
  else
    echo "Usage: $0 [options] <arguments>"
  fi
  echo
  echo "Options (default after the name; --name value or --name=value):"
  if $_po_block; then
    _po_help_block "$_po_script" own
  fi
  $_po_own_config || printf '  %-28s %s\n' "--config FILE" "# read options from FILE (lines --name=value)"
  printf '  %-28s %s\n' "--help" "# print this message"
  if [ ${#_po_fwd_names[@]} -gt 0 ]; then
    echo
    echo "Options of $po_forward (passed on to it):"
    _po_help_block "$po_forward" forwarded
  fi
}

# _po_help_block SCRIPT own|forwarded: one line per option of SCRIPT's block, comments kept.
_po_help_block() {
  local line n v rest comment here x skip
  while IFS= read -r line; do
    case $line in
      *"Begin configuration section"*|*"End configuration section"*) continue ;;
    esac
    if [[ $line =~ $_po_decl ]]; then
      n=${BASH_REMATCH[4]}
      rest=${BASH_REMATCH[5]}
      [ "$n" = help_message ] && continue
      skip=false
      if [ "$2" = forwarded ]; then
        case " ${po_forward_skip:-} " in *" $n "*) skip=true ;; esac
      fi
      $skip && continue
      comment=""
      if [[ $rest == *[[:space:]]#* ]]; then
        comment=${rest#*[[:space:]]#}
        comment="# ${comment#"${comment%%[![:space:]]*}"}"
      fi
      here=""
      if [ "$2" = own ]; then
        v=${_po_default[$n]-}
        [ "${!n-}" = "$v" ] || here=${!n-}
      else  # the forwarded script's default, evaluated as it would be (e.g. $IEMOCAP)
        v=$(eval "x=${rest%%[[:space:]]#*}" 2>/dev/null; printf '%s' "${x-}")
      fi
      if [ -z "$v" ] || [[ $v == *[[:space:]]* ]]; then v="\"$v\""; fi
      [ -z "$here" ] || comment="$comment (here: $here)"
      printf '  %-28s %s\n' "--${n//_/-} $v" "$comment"
    elif [[ $line =~ ^[[:space:]]*#(.*)$ ]]; then
      printf '  #%s\n' "${BASH_REMATCH[1]}"
    fi
  done < <(_po_block_of "$1")
}

# Pass 1: --help anywhere among the options (before any is applied, so the defaults shown
# are the script's), and collect --config files (lower priority than the command line).
# A script that declares its own `config` variable gets --config as a plain option instead.
_po_configs=()
_po_want_help=false
_po_own_config=false
if _po_is_option config; then _po_own_config=true; fi
_po_i=1
while [ "$_po_i" -le $# ]; do
  _po_a=${!_po_i}
  case $_po_a in
    --) break ;;
    --help|-h) _po_want_help=true ;;
    --config=*) $_po_own_config || _po_configs+=("${_po_a#--config=}") ;;
    --config)
      if $_po_own_config; then _po_i=$((_po_i + 2)); continue; fi
      _po_j=$((_po_i + 1))
      [ "$_po_j" -le $# ] || _po_die "option '--config' needs a value"
      _po_configs+=("${!_po_j}"); _po_i=$_po_j ;;
    --?*=*) ;;
    --?*) _po_i=$((_po_i + 1)) ;;
    *) break ;;
  esac
  _po_i=$((_po_i + 1))
done

for _po_cfg in ${_po_configs[@]+"${_po_configs[@]}"}; do
  if [ ! -f "$_po_cfg" ] || [ ! -r "$_po_cfg" ]; then _po_die "--config: cannot read '$_po_cfg'"; fi
  _po_lineno=0
  while IFS= read -r _po_line || [ -n "$_po_line" ]; do
    _po_lineno=$((_po_lineno + 1))
    # Strip comments (a # at the start or after white space) and surrounding blanks.
    _po_line=$(printf '%s' "$_po_line" | sed -e 's/^#.*//' -e 's/[[:space:]]#.*//' \
      -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
    [ -z "$_po_line" ] && continue
    if [[ $_po_line =~ ^--([^=[:space:]]+)(=|[[:space:]]+)(.*)$ ]] \
      || [[ $_po_line =~ ^([A-Za-z_][A-Za-z0-9_]*)(=)(.*)$ ]]; then
      _po_n=${BASH_REMATCH[1]}
      _po_v=${BASH_REMATCH[3]}
      # One level of matching quotes, as a shell assignment would remove.
      if [[ $_po_v =~ ^\"(.*)\"$ ]] || [[ $_po_v =~ ^\'(.*)\'$ ]]; then _po_v=${BASH_REMATCH[1]}; fi
      _po_set "--$_po_n (in $_po_cfg line $_po_lineno)" "${_po_n//-/_}" "$_po_v"
    else
      _po_die "$_po_cfg line $_po_lineno: expected --name=value, got '$_po_line'"
    fi
  done < "$_po_cfg"
done

# Pass 2: the command line.
while [ $# -gt 0 ]; do
  case $1 in
    --) shift; _po_check_rest=false; break ;;
    --help|-h) shift ;;
    --?*=*)
      _po_a=${1%%=*}
      _po_v=${1#*=}
      if [ "$_po_a" != --config ] || $_po_own_config; then
        _po_set "$_po_a" "$(printf '%s' "${_po_a#--}" | tr - _)" "$_po_v"
      fi
      shift ;;
    --?*)
      [ $# -ge 2 ] || _po_die "option '$1' needs a value"
      if [ "$1" != --config ] || $_po_own_config; then
        _po_set "$1" "$(printf '%s' "${1#--}" | tr - _)" "$2"
      fi
      shift 2 ;;
    *) break ;;
  esac
done

if $_po_want_help; then _po_help; exit 0; fi

# An option after the first positional argument is a mistake Kaldi silently accepts.
if [ "${_po_check_rest:-true}" = true ]; then
  _po_first=${1-}
  for _po_a in "$@"; do
    case $_po_a in
      --?*) _po_die "option '${_po_a%%=*}' comes after the positional argument '$_po_first'; options must come first (use -- before positional arguments that start with --)" ;;
    esac
  done
fi

unset -f _po_die _po_is_option _po_set _po_help _po_help_block _po_block_of _po_names_of
unset _po_script _po_decl _po_names _po_block _po_line _po_configs _po_own_config _po_i _po_j _po_a _po_n _po_v \
  _po_cfg _po_lineno _po_check_rest _po_first _po_default _po_bool _po_fwd_names _po_want_help
true
