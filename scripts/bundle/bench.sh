#!/usr/bin/env bash
# Runs the dbio benchmark from this bundle, no Rust toolchain needed:
# installs what is missing (MariaDB, the Python drivers for --python) and
# runs bin/bench with the same arguments. `./bench.sh --help` for options.
set -euo pipefail

# Before anything of the bundle runs (even scripts/lib.sh): run as root, a
# bundle that another user can change would run their programs as root. So
# the bundle's directory and every directory above it must belong to root
# or to this user and be writable by no one else (group root aside), sticky
# parents such as /tmp excepted, whose entries must then be ours; what the
# bundle runs (bin/, scripts/, queries/) must be ours too, with no symlink.
# The rule of a managed server's home (dbio's model::trust), in shell.
bundle_refuse() {
  printf 'error: refusing to run the bundle in %s: %s; unpack it into a directory that only you (or root) can change, such as /opt or your home directory, with tar --no-same-owner\n' "$1" "$2" >&2
  exit 1
}
bundle_check() {
  local here me dir above_sticky=0 owner gid mode others sticky
  here=$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" 2>/dev/null && pwd -P) ||
    bundle_refuse "$(dirname -- "${BASH_SOURCE[0]}")" "cannot resolve it"
  me=$(id -u)
  dir=""
  # Each directory from / down to the bundle's own.
  while :; do
    local path=${dir:-/}
    read -r owner gid mode < <(stat -c '%u %g %a' -- "$path" 2>/dev/null) ||
      bundle_refuse "$here" "cannot inspect $path"
    mode=$((8#$mode))
    if [ "$path" = "$here" ] || [ "$above_sticky" = 1 ]; then
      [ "$owner" = "$me" ] || bundle_refuse "$here" "$path belongs to another user (uid $owner)"
    else
      [ "$owner" = 0 ] || [ "$owner" = "$me" ] ||
        bundle_refuse "$here" "$path belongs to another user (uid $owner)"
    fi
    others=0
    if (( mode & 8#002 )) || { (( mode & 8#020 )) && [ "$gid" != 0 ]; }; then others=1; fi
    sticky=0
    (( mode & 8#1000 )) && sticky=1
    if [ "$others" = 1 ] && { [ "$path" = "$here" ] || [ "$sticky" = 0 ]; }; then
      bundle_refuse "$here" "other users can write to $path (mode $(printf %o "$mode"))"
    fi
    above_sticky=$(( others && sticky ))
    [ "$path" = "$here" ] && break
    local rest=${here#"$dir"/}
    dir=$dir/${rest%%/*}
  done
  # What the bundle runs: no symlink, nothing of another user, nothing
  # that others can write.
  local bad
  bad=$(find "$here/bench.sh" "$here/bin" "$here/scripts" "$here/queries" \
    \( -type l -o \( ! -uid 0 ! -uid "$me" \) -o -perm -o=w -o \( -perm -g=w ! -gid 0 \) \) \
    -print -quit 2>&1) || bundle_refuse "$here" "cannot inspect its files: $bad"
  [ -z "$bad" ] || bundle_refuse "$here" "$bad is a symlink, belongs to another user or is writable by others"
  BUNDLE=$here
}
bundle_check
# By the checked path: a symlink on the way there may since point elsewhere.
. "$BUNDLE/scripts/lib.sh"
# The managed server's home: beside the binaries unless DBIO_HOME says.
export DBIO_HOME=${DBIO_HOME:-$ROOT/home}
BENCH=$ROOT/bin/bench
plan=$("$BENCH" --needs "$@")
if printf '%s\n' "$plan" | grep -qv '^\(need\|build\): '; then
  printf '%s\n' "$plan" # --help or --version
  exit 0
fi
printf '%s\n' "$plan" | grep -qx 'need: server' && ensure_server
printf '%s\n' "$plan" | grep -qx 'need: c-client' && ensure_c_client
if printf '%s\n' "$plan" | grep -qx 'need: python'; then
  DBIO_PYTHON=$(ensure_python_venv)
  export DBIO_PYTHON
fi
exec "$BENCH" "$@"
