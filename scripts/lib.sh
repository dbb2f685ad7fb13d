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

ensure_rust() {
  command -v cargo >/dev/null 2>&1 || die "cargo is missing; install Rust from https://rustup.rs"
}
