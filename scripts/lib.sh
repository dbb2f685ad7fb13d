# Shared by scripts/*.sh: find or install what the project needs.
# Installs with apt-get when it can (root on Debian/Ubuntu); otherwise stops
# with the exact command to run.

die() { printf 'error: %s\n' "$*" >&2; exit 1; }
say() { printf '%s\n' "$*" >&2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

have_server() {
  command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 ||
    [ -x /usr/sbin/mariadbd ] || [ -x /usr/sbin/mysqld ] || [ -n "${DBIO_MYSQLD:-}" ]
}

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || die "apt-get update failed"
    apt-get install -y -q "$@" >/dev/null || die "apt-get install $* failed"
  else
    die "$1 is missing; install it with: sudo apt-get install -y $*"
  fi
}

ensure_server() {
  have_server || apt_install mariadb-server
  have_server || die "mariadb-server is installed but no mariadbd was found"
}

# mariadb-slap, the C client `bench --c-client` compares with.
ensure_c_client() {
  command -v mariadb-slap >/dev/null 2>&1 || apt_install mariadb-client
  command -v mariadb-slap >/dev/null 2>&1 || die "mariadb-client is installed but no mariadb-slap was found"
}

ensure_rust() {
  command -v cargo >/dev/null 2>&1 || die "cargo is missing; install Rust from https://rustup.rs"
}

# The Python drivers, pinned in scripts/python/requirements.txt, in
# target/python-venv; prints the venv's python.
ensure_python_venv() {
  command -v python3 >/dev/null 2>&1 || die "python3 is missing; install it with: sudo apt-get install -y python3 python3-venv"
  local venv=$ROOT/target/python-venv
  if [ ! -x "$venv/bin/python" ] || ! cmp -s "$ROOT/scripts/python/requirements.txt" "$venv/requirements.txt"; then
    say "== installing the Python drivers into target/python-venv"
    # Debian's python3 needs python3-venv for this; installed when we can.
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      rm -rf "$venv"
      apt_install python3-venv
      python3 -m venv "$venv" || die "cannot create a venv; install it with: sudo apt-get install -y python3-venv"
    fi
    "$venv/bin/pip" install -q -r "$ROOT/scripts/python/requirements.txt" >&2 || die "pip install failed"
    cp "$ROOT/scripts/python/requirements.txt" "$venv/requirements.txt"
  fi
  printf '%s\n' "$venv/bin/python"
}

# The Python unit tests' runner (scripts/python/requirements-test.txt), in
# the drivers' venv; prints the venv's python.
ensure_python_tests() {
  local python venv=$ROOT/target/python-venv
  python=$(ensure_python_venv)
  if ! cmp -s "$ROOT/scripts/python/requirements-test.txt" "$venv/requirements-test.txt"; then
    say "== installing pytest into target/python-venv"
    "$venv/bin/pip" install -q -r "$ROOT/scripts/python/requirements-test.txt" >&2 || die "pip install of pytest failed"
    cp "$ROOT/scripts/python/requirements-test.txt" "$venv/requirements-test.txt"
  fi
  printf '%s\n' "$python"
}

# hyperfine (>= 1.19: --conclude and memory figures), in target/tools when
# none is on PATH; the driver finds it there.
HYPERFINE_VERSION=1.20.0
ensure_hyperfine() {
  local h
  for h in "$ROOT/target/tools/bin/hyperfine" "$(command -v hyperfine || true)"; do
    [ -n "$h" ] && [ -x "$h" ] &&
      "$h" --version 2>/dev/null | awk '{split($2,v,"."); exit !(v[1]>1 || (v[1]==1 && v[2]>=19))}' && return 0
  done
  say "== installing hyperfine $HYPERFINE_VERSION into target/tools"
  cargo install hyperfine --version "$HYPERFINE_VERSION" --locked --root "$ROOT/target/tools" >&2 ||
    die "could not install hyperfine; run: cargo install hyperfine --version $HYPERFINE_VERSION --locked"
}
