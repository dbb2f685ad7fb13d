"""The run's settings from the environment, as the Rust binaries' defaults
take them (crates/model/src/settings.rs): DATABASE_URL or DATABASE_URLS,
DBIO_CONNECTIONS (the budget, per server, default 5), DBIO_CONNECT_TIMEOUT
(seconds, default 10: connect, handshake and login) and DBIO_MAX_LAG.
Numbers follow clap's rules and the binaries' bounds: ASCII digits only (a
leading + allowed), exit 2 for what does not parse, 1 out of range.

The budget is applied to every approach: SQLAlchemy's pool gets
pool_size=budget and no overflow (the blog ran with SQLAlchemy's defaults,
5 + 10 overflow), aiomysql's pool maxsize=budget (the blog: aiomysql's
default, 10)."""

import os
import re
from urllib.parse import quote, unquote, urlsplit

from dbio.errors import Refused

# The Rust binaries' bounds (crates/model/src/settings.rs, workload.rs).
U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1
MAX_BUDGET = 100_000
MAX_CONNECT_TIMEOUT = 3_600
MAX_COUNT = 1_000_000
MAX_SLEEP_MS = 3_600_000

# What a read-only run's connections send once, after opening.
READ_ONLY_SESSION = "SET SESSION TRANSACTION READ ONLY"
# The words clap takes as false for a flag's environment variable.
FALSEY = {"", "n", "no", "f", "false", "off", "0"}


def whole(name, default, flag, lo, hi, bits_max=U32_MAX):
    """The environment's `name` as a whole number, by the Rust binaries'
    rules: clap's parse (ASCII digits, an optional +, within the type;
    else Refused with code 2, "invalid value"), then the range check
    (code 1)."""
    text = os.environ.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"\+?[0-9]+", text, flags=re.ASCII) or int(text) > bits_max:
        raise Refused(f"invalid value {text!r} for {flag} ({name}): not a whole number in range",
                      code=2)
    value = int(text)
    if value < lo:
        raise Refused(f"{flag} must be at least {lo}")
    if value > hi:
        raise Refused(f"{flag} must be at most {hi}")
    return value


def flag(name):
    """A flag's environment variable as clap reads it: set, and not one of
    its false words."""
    return os.environ.get(name, "").lower() not in FALSEY


def server_of(url, name):
    """One server's settings from its URL, checked as the Rust binaries
    check DATABASE_URL; `name` is the variable it came from."""
    # Never quote the URL: one that does not parse as intended (no scheme,
    # `mysql:user:pw@host`) has its password where redaction does not look.
    expected = "expected mysql://USER@HOST:PORT/DATABASE, with USER:PASSWORD for a password"
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb"):
        raise Refused(f"{name} does not start with mysql:// or mariadb://; {expected}")
    if not url[len(parts.scheme):].startswith("://") or not parts.hostname:
        raise Refused(f"{name} has no // and host after its scheme; {expected}")
    try:
        port = parts.port
    except ValueError:
        raise Refused(f"{name} has an invalid port; {expected}") from None
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": port or 3306,
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "db": parts.path.lstrip("/") or "employees",
    }


def settings():
    """The run's settings: every server (DATABASE_URLS, comma-separated, or
    DATABASE_URL), each once, the budget per server and the connect
    timeout. The first server's own settings are also at the top level."""
    listed = os.environ.get("DATABASE_URLS")
    if listed and os.environ.get("DATABASE_URL"):
        raise Refused("both DATABASE_URL (--database-url) and DATABASE_URLS (--database-urls) are "
                      "set: give the servers in one of them")
    if listed:
        entries = [u.strip() for u in listed.split(",") if u.strip()]
        servers = [server_of(u, f"entry {i + 1} of DATABASE_URLS") for i, u in enumerate(entries)]
        if not servers:
            raise Refused("DATABASE_URLS lists no server (only commas or blanks); "
                          "give each server's URL, comma-separated")
    else:
        url = os.environ.get("DATABASE_URL")
        if not url:
            raise Refused("DATABASE_URL is not set (scripts/bench.sh sets it from `dbio url --reveal`)")
        servers = [server_of(url, "DATABASE_URL")]
    for i, a in enumerate(servers):
        for b in servers[i + 1:]:
            if (a["host"].lower(), a["port"], a["db"]) == (b["host"].lower(), b["port"], b["db"]):
                raise Refused(f"{shown_url(b)} is given twice: each server once (its budget is per server)")
    max_lag = whole("DBIO_MAX_LAG", 10, "--max-lag", 0, 3600, bits_max=U64_MAX)
    budget = whole("DBIO_CONNECTIONS", 5, "--connections", 1, MAX_BUDGET)
    timeout = whole("DBIO_CONNECT_TIMEOUT", 10, "--connect-timeout", 1, MAX_CONNECT_TIMEOUT,
                    bits_max=U64_MAX)
    # The budget is per server; a bounded approach may keep every server's
    # connections busy at once (as the Rust schedules do): its total.
    return {**servers[0], "servers": servers, "connect_timeout": timeout, "budget": budget,
            "max_lag": max_lag, "total_budget": budget * len(servers)}


def shown_url(cfg):
    """The server as the report names it, password redacted (as Rust's DbUrl)."""
    user = quote(cfg["user"], safe="") + (":***" if cfg["password"] else "")
    return f"mysql://{user}@{cfg['host']}:{cfg['port']}/{cfg['db']}"
