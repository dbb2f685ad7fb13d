"""Shared by the Python approaches: the same query lists, the same settings
and the same output as the Rust binaries (first row and row count per
query, then a summary line).

Settings come from the environment, as the Rust binaries' defaults do:
DATABASE_URL (mysql://USER:PASSWORD@HOST:PORT/DATABASE),
DBIO_CONNECTIONS (the connection budget, default 5), DBIO_CONNECT_TIMEOUT
(seconds, default 10: connect, handshake and login), and the workload:
DBIO_WORKLOAD (report, point or sleep), DBIO_COUNT, DBIO_SLEEP_MS. Numbers
follow the Rust binaries' rules: ASCII digits only (a leading + allowed),
within the same bounds, and the same exit codes (2: not a number; 1: out
of range). The budget is applied
to every approach: SQLAlchemy's pool gets pool_size=budget and no overflow
(the blog ran with SQLAlchemy's defaults, 5 + 10 overflow), aiomysql's pool
maxsize=budget (the blog: aiomysql's default, 10).
"""

import datetime
import os
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from dbio_statements import Refused, dashboard, second_statement

TEMPLATE = Path(__file__).resolve().parents[2] / "queries" / "report.sql"


def fail(message):
    # One line, no traceback, never the password.
    message = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", str(message)).replace("\n", " ")
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


# The Rust binaries' bounds (crates/model/src/settings.rs, workload.rs).
U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1
MAX_BUDGET = 100_000
MAX_CONNECT_TIMEOUT = 3_600
MAX_COUNT = 1_000_000
MAX_SLEEP_MS = 3_600_000


def whole(name, default, flag, lo, hi, bits_max=U32_MAX):
    """The environment's `name` as a whole number, by the Rust binaries'
    rules: clap's parse (ASCII digits, an optional +, within the type;
    else exit 2 "invalid value"), then the range check (exit 1)."""
    text = os.environ.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"\+?[0-9]+", text, flags=re.ASCII) or int(text) > bits_max:
        print(f"error: invalid value {text!r} for {flag} ({name}): not a whole number in range", file=sys.stderr)
        sys.exit(2)
    value = int(text)
    if value < lo:
        fail(f"{flag} must be at least {lo}")
    if value > hi:
        fail(f"{flag} must be at most {hi}")
    return value


def server_of(url, name):
    """One server's settings from its URL, checked as the Rust binaries
    check DATABASE_URL; `name` is the variable it came from."""
    # Never quote the URL: one that does not parse as intended (no scheme,
    # `mysql:user:pw@host`) has its password where redaction does not look.
    expected = "expected mysql://USER@HOST:PORT/DATABASE, with USER:PASSWORD for a password"
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb"):
        fail(f"{name} does not start with mysql:// or mariadb://; {expected}")
    if not url[len(parts.scheme):].startswith("://") or not parts.hostname:
        fail(f"{name} has no // and host after its scheme; {expected}")
    try:
        port = parts.port
    except ValueError:
        fail(f"{name} has an invalid port; {expected}")
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
        fail("both DATABASE_URL (--database-url) and DATABASE_URLS (--database-urls) are set: "
             "give the servers in one of them")
    if listed:
        entries = [u.strip() for u in listed.split(",") if u.strip()]
        servers = [server_of(u, f"entry {i + 1} of DATABASE_URLS") for i, u in enumerate(entries)]
        if not servers:
            fail("DATABASE_URLS lists no server (only commas or blanks); "
                 "give each server's URL, comma-separated")
    else:
        url = os.environ.get("DATABASE_URL")
        if not url:
            fail("DATABASE_URL is not set (scripts/bench.sh sets it from `dbio url --reveal`)")
        servers = [server_of(url, "DATABASE_URL")]
    for i, a in enumerate(servers):
        for b in servers[i + 1:]:
            if (a["host"].lower(), a["port"], a["db"]) == (b["host"].lower(), b["port"], b["db"]):
                fail(f"{shown_url(b)} is given twice: each server once (its budget is per server)")
    max_lag = whole("DBIO_MAX_LAG", 10, "--max-lag", 0, 3600, bits_max=U64_MAX)
    budget = whole("DBIO_CONNECTIONS", 5, "--connections", 1, MAX_BUDGET)
    timeout = whole("DBIO_CONNECT_TIMEOUT", 10, "--connect-timeout", 1, MAX_CONNECT_TIMEOUT,
                    bits_max=U64_MAX)
    # The budget is per server: a bounded approach may keep every server's
    # connections busy (as the Rust schedules' budget).
    return {**servers[0], "servers": servers, "connect_timeout": timeout, "budget": budget,
            "max_lag": max_lag,
            "slots": budget * len(servers)}


def shown_url(cfg):
    """The server as the report names it, password redacted (as Rust's DbUrl)."""
    user = quote(cfg["user"], safe="") + (":***" if cfg["password"] else "")
    return f"mysql://{user}@{cfg['host']}:{cfg['port']}/{cfg['db']}"


def plan(path=None):
    """Checks the workload's settings (DBIO_WORKLOAD: report, point, sleep)
    before anything connects, as the Rust binaries' validation does, and
    returns what build() needs."""
    workload = os.environ.get("DBIO_WORKLOAD", "report")
    if workload not in ("report", "point", "sleep"):
        fail(f"DBIO_WORKLOAD must be report, point or sleep, not {workload!r}")
    # Parsed whatever the workload, as clap parses every variable.
    count = whole("DBIO_COUNT", None, "--count", 0, U32_MAX)
    ms = whole("DBIO_SLEEP_MS", None, "--sleep-ms", 0, U32_MAX)
    if ms is not None and workload != "sleep":
        fail("--sleep-ms applies to --workload sleep (it would be ignored)")
    if path and workload != "report":
        fail("--queries is a template for the report workload")
    if workload == "report":
        if count is not None:
            fail("DBIO_COUNT applies to the point and sleep workloads; the report is 26 queries")
        try:
            with open(path or TEMPLATE, "rb") as f:
                data = f.read(MAX_TEMPLATE_BYTES + 1)
        except OSError as e:
            fail(f"cannot read the query file {path}: {e.strerror}")
        if len(data) > MAX_TEMPLATE_BYTES:
            fail(f"{path} is larger than {MAX_TEMPLATE_BYTES} bytes: no server accepts a statement "
                 "that large")
        try:
            text = data.decode()
        except UnicodeDecodeError as e:
            fail(f"cannot read the query file {path}: {e}")
        if "{}" not in text:
            if len(data) > MAX_FILE_BYTES:
                fail(f"{path} is larger than {MAX_FILE_BYTES} bytes: a dashboard holds a page's "
                     "statements")
            try:
                return {"workload": workload, "dashboard": dashboard(text)}
            except Refused as e:
                fail(str(e))
        template = text.rstrip()
        at = second_statement(template)
        if at is not None:
            fail(f"the query template holds more than one statement (a second one starts at byte {at}); "
                 "a template is one query, and the drivers would read its results differently")
        return {"workload": workload, "template": template}
    n = count if count is not None else (10000 if workload == "point" else 100)
    if n < 1:
        fail("--count must be at least 1")
    if n > MAX_COUNT:
        fail(f"--count must be at most {MAX_COUNT} (every query is built before the run)")
    if workload == "sleep":
        ms = 50 if ms is None else ms
        if ms < 1:
            fail("--sleep-ms must be at least 1")
        if ms > MAX_SLEEP_MS:
            fail(f"--sleep-ms must be at most {MAX_SLEEP_MS} (an hour)")
    return {"workload": workload, "count": n, "sleep_ms": ms}


def build(planned):
    """The query list, built exactly as crates/model/src/workload.rs
    builds it (point keys from the probe's key range)."""
    workload = planned["workload"]
    if "dashboard" in planned:
        return list(planned["dashboard"])
    if workload == "report":
        template = planned["template"]
        return [(letter, template.replace("{}", letter))
                for letter in map(chr, range(ord("A"), ord("Z") + 1))]
    n, ms = planned["count"], planned["sleep_ms"]
    width = len(str(n))
    if workload == "sleep":
        return [(f"s{i + 1:0{width}}", f"SELECT SLEEP({ms // 1000}.{ms % 1000:03}) AS slept, 's{i + 1:0{width}}' AS q")
                for i in range(n)]
    lo, hi = PROBE.key_range()
    span, state, out = hi - lo + 1, 0x5EEDD810, []
    for i in range(n):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        out.append((f"p{i + 1:0{width}}",
                    "SELECT emp_no, birth_date, first_name, last_name, gender, hire_date "
                    f"FROM employees WHERE emp_no = {lo + z % span}"))
    return out


# The largest dashboard and template files (crates/model/src/queries.rs).
MAX_FILE_BYTES = 1 << 20
MAX_TEMPLATE_BYTES = 1 << 30
# What a read-only run's connections send once, after opening
# (crates/model/src/settings.rs).
READ_ONLY_SESSION = "SET SESSION TRANSACTION READ ONLY"
# The words clap takes as false for a flag's environment variable.
FALSEY = {"", "n", "no", "f", "false", "off", "0"}


class Probe:
    """One connection before the clock, as the Rust binaries' probe: it
    proves the server answers within DBIO_CONNECT_TIMEOUT (connect,
    handshake and login: PyMySQL bounds only the TCP connect unless a read
    timeout is set, and aiomysql only that, so a listener that never
    answers hung the scripts), refuses a dataset whose load did not finish,
    and asks the point workload's key range."""

    def __init__(self):
        self.conn = None

    def open(self, cfg):
        import socket

        import pymysql

        t = cfg["connect_timeout"]
        try:
            self.conn = pymysql.connect(host=cfg["host"], port=cfg["port"], user=cfg["user"],
                                        password=cfg["password"], database=cfg["db"],
                                        connect_timeout=t, read_timeout=t, write_timeout=t)
        except pymysql.err.OperationalError as e:
            cause = e.args[1] if len(e.args) > 1 else ""
            if "timed out" in str(cause) or isinstance(e.__cause__, socket.timeout):
                fail(f"connected to {cfg['host']}:{cfg['port']}, but the server did not answer "
                     f"the MySQL handshake within {t} s")
            raise

    def one(self, sql):
        with self.conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()

    def check_dataset(self):
        import pymysql

        try:
            row = self.one("SELECT v FROM _dbio_meta WHERE k = 'status'")
        except pymysql.err.ProgrammingError as e:
            if e.args[0] == 1146:  # not loaded by dbio: taken as it is
                return
            raise
        status = row[0] if row else None
        if status == "complete":
            return
        if status is None:
            fail("the dataset has no load status in _dbio_meta (a load that did not finish); "
                 "reload it with `dbio load --force`")
        fail(f"the dataset is incomplete: its load ended in state `{status}` (a load that did "
             "not finish, e.g. on a full disk); reload it with `dbio load --force`")

    def identity(self):
        """What makes two loaded datasets the same (workload.rs's DATASET_IDENTITY)."""
        row = self.one("SELECT GROUP_CONCAT(CONCAT(k, '=', v) ORDER BY k SEPARATOR ' ') "
                       "FROM _dbio_meta WHERE k IN ('source', 'generator', 'scale', 'seed')")
        return row[0] if row else None

    def server_identity(self):
        """What the server says it is (workload.rs's SERVER_IDENTITY, and
        MySQL's server_uuid where it has one): one server reached under two
        spellings answers the same."""
        import pymysql

        identity = tuple(self.one("SELECT @@hostname, @@port, @@datadir"))
        try:
            identity += tuple(self.one("SELECT @@server_uuid"))
        except pymysql.err.MySQLError:  # MariaDB has none
            pass
        return identity

    def lag(self):
        """The replica's lag (Seconds_Behind_Master), "none" when it is no
        replica, "hidden" when the account may not see it, None when it does
        not replicate now (as common::cli's check)."""
        import pymysql

        try:
            with self.conn.cursor() as cursor:
                cursor.execute("SHOW SLAVE STATUS")
                row = cursor.fetchone()
                names = [d[0] for d in cursor.description or ()]
        except pymysql.err.OperationalError as e:
            if e.args and e.args[0] == 1227:
                return "hidden"
            raise
        if row is None:
            return "none"
        lag = dict(zip(names, row)).get("Seconds_Behind_Master")
        return None if lag is None else int(lag)

    def key_range(self):
        """The range point lookups draw their keys from."""
        lo, hi = self.one("SELECT MIN(emp_no), MAX(emp_no) FROM employees")
        if lo is None:
            fail("the employees table is empty: load the dataset (`dbio up`) before the point workload")
        return int(lo), int(hi)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


PROBE = Probe()


class Router:
    """Which server runs a query, as crates/common/src/route.rs decides it
    for the Rust approaches: the one with the fewest queries in flight
    (counted from routing to the end of the query), ties in turn."""

    def __init__(self, servers, names=()):
        self.in_flight = [0] * servers
        self.names = list(names) or [f"server {i + 1}" for i in range(servers)]
        self.lost = set()
        self.next = 0
        self.lock = threading.Lock()

    def enter(self):
        """The server for the next query; raises ServersLost when every one
        was lost during the run."""
        with self.lock:
            n = len(self.in_flight)
            up = [i for i in range(n) if (self.next + i) % n not in self.lost]
            if not up:
                raise ServersLost(self.names)
            best = min(up, key=lambda i: (self.in_flight[(self.next + i) % n], i))
            server = (self.next + best) % n
            self.next = server + 1
            self.in_flight[server] += 1
            return server

    def leave(self, server):
        with self.lock:
            self.in_flight[server] -= 1

    def lose(self, server):
        with self.lock:
            self.lost.add(server)


class ServersLost(Exception):
    def __init__(self, names):
        super().__init__(f"every server was lost during the run: {', '.join(names)}")


# Errors that mean the server went away (routing moves the query to
# another): shutdown in progress, connection killed, can't connect, server
# gone, connection lost.
LOST_CODES = {1053, 1927, 2003, 2006, 2013}


def error_code(e):
    """The server's error number of `e` or of what caused it, if any."""
    while e is not None:
        if getattr(e, "args", None) and isinstance(e.args[0], int):
            return e.args[0]
        e = e.__cause__ or getattr(e, "orig", None)
    return None


def server_lost(e):
    """Whether `e` means the query's server went away, as the Rust
    model::Error::server_lost decides."""
    import pymysql

    if isinstance(e, pymysql.err.OperationalError) and e.args and e.args[0] in LOST_CODES:
        return True
    if isinstance(e, (ConnectionError, EOFError)):
        return True
    cause = e.__cause__ or getattr(e, "orig", None)
    return cause is not None and cause is not e and server_lost(cause)


class Servers:
    """One SQLAlchemy engine per server, each with pool_size connections,
    and the router between them."""

    def __init__(self, engines, names=()):
        self.engines = engines
        self.router = Router(len(engines), names)


def engine(cfg, pool_size):
    """The run's pools: one SQLAlchemy engine (the blog's pool) per server."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import URL

    engines = []
    for server in cfg["servers"]:
        url = URL.create("mysql+pymysql", username=server["user"], password=server["password"],
                         host=server["host"], port=server["port"], database=server["db"])
        # A short pool timeout, retried by connect(): SQLAlchemy does not wake
        # threads waiting for a free connection when a connect fails, so a long
        # timeout would hang every waiter on a dead server.
        # No reset between queries, as in the Rust pool: no rollback when a
        # connection goes back (pool_reset_on_return=None), and autocommit on,
        # the server's default, as the Rust drivers leave it.
        engines.append(create_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=1,
                                     isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
                                     connect_args={"connect_timeout": cfg["connect_timeout"],
                                                   "init_command": cfg["init_command"]}))
    for i, made in enumerate(engines):
        IDLE[i] = lambda made=made: idle_of_engine(made)
    return Servers(engines, [shown_url(server) for server in cfg["servers"]])


FAILED = threading.Event()


class Routed:
    """A pooled DBAPI connection of server `server`; closing it gives it
    back and ends the query's count at the router."""

    def __init__(self, servers, server, conn):
        self.servers, self.server, self.conn = servers, server, conn

    def __enter__(self):
        self.conn.info["dbio_server"] = self.server
        return self.conn

    def __exit__(self, kind, error, trace):
        try:
            # A connection its server broke is not given back: the next
            # query on it would fail on its closed socket instead.
            if error is not None and server_lost(error):
                self.conn.invalidate()
            self.conn.close()
        finally:
            self.servers.router.leave(self.server)


def connect(servers):
    """A connection from the routed server's SQLAlchemy pool (the blog's),
    waiting for a free one for as long as no other query has failed;
    leaving the `with` gives it back.

    The DBAPI connection, not SQLAlchemy's Connection: in SQLAlchemy 2 the
    latter ends every `with` block with a ROLLBACK, one more round trip per
    query that the Rust approaches do not make (the server's Com_rollback
    counted one per query)."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    server = servers.router.enter()
    try:
        while True:
            try:
                return Routed(servers, server, servers.engines[server].raw_connection())
            except PoolTimeout:
                if FAILED.is_set():
                    raise RuntimeError("stopped after another query failed") from None
    except BaseException as e:
        servers.router.leave(server)
        e.dbio_server = server
        raise


def query(servers, sql, out):
    """Runs `sql` on a connection of the server the router picks and
    fetches every row; in a run on several servers, once more on another
    when that server was lost (the Rust drivers' failover: a second loss
    leaves the query failed, or names every server when none is left)."""
    moved_from = None
    for attempt in (0, 1):
        server = None
        try:
            routed = connect(servers)
            server = routed.server
            with routed as conn:
                fetched = run_sql(conn, sql, out)
            fetched.moved_from = moved_from
            return fetched
        except ServersLost:
            raise
        except Exception as e:
            server = getattr(e, "dbio_server", server)
            if len(servers.engines) == 1 or server is None or not server_lost(e):
                raise
            servers.router.lose(server)
            if attempt == 1:
                if len(servers.router.lost) == len(servers.engines):
                    raise ServersLost(servers.router.names) from e
                raise
            moved_from = server


class Fetched:
    """One query's rows and when, on the run's clock (Output.now_us), it
    had its connection and was sent, its first row arrived (the end of the
    result for an empty one) and its last row did; and the server's id of
    the connection. The same points as the Rust binaries' QueryResult."""

    __slots__ = ("rows", "connected_us", "first_row_us", "finished_us", "connection_id", "server",
                 "moved_from")

    def __init__(self, rows, connected_us, first_row_us, finished_us, connection_id, server=0):
        self.rows, self.connected_us, self.first_row_us = rows, connected_us, first_row_us
        self.finished_us, self.connection_id, self.server = finished_us, connection_id, server
        self.moved_from = None


def run_sql(conn, sql, out):
    """Runs one query on a pooled DBAPI connection and fetches every row.

    Unbuffered (SSCursor), as the Rust drivers stream: PyMySQL's default
    cursor reads the whole result inside execute(), so the first row's
    arrival could not be seen. The same rows go through the same
    conversion either way."""
    from pymysql.cursors import SSCursor

    thread_id = conn.dbapi_connection.thread_id()
    server = conn.info.get("dbio_server", 0)
    with running(server, thread_id):
        cursor = conn.cursor(SSCursor)
        try:
            connected = out.now_us()
            cursor.execute(sql)
            first = cursor.fetchone()
            first_us = out.now_us()
            rows = [first, *cursor.fetchall()] if first is not None else []
            return Fetched(rows, connected, first_us, out.now_us(), thread_id, server)
        finally:
            cursor.close()


# --- Ctrl-C, kill and a closed terminal -------------------------------------
# As in the Rust binaries: on SIGINT, SIGTERM or SIGHUP, KILL QUERY every server
# connection that runs a query (over a connection of its own), until none
# does, then exit with 128 + the signal. Without it the server goes on
# computing for a client that has gone.

IN_USE = set()
IN_USE_LOCK = threading.RLock()  # re-entered by a signal handler on the main thread
CANCELLED = False
GRACE = 1.5
PACE = 0.05


class running:
    """Marks connection `thread_id` of server `server` (an index into the
    run's servers) as running a query; refuses to start one once the run is
    cancelled."""

    def __init__(self, server, thread_id):
        self.key = (server, thread_id)

    def __enter__(self):
        with IN_USE_LOCK:
            if CANCELLED:
                raise RuntimeError("interrupted")
            IN_USE.add(self.key)

    def __exit__(self, *exc):
        with IN_USE_LOCK:
            IN_USE.discard(self.key)


def cancel_on_signals(cfg):
    import signal

    ours = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    # Python runs the handlers of signals that are pending together in the
    # order of their numbers, not of their arrival: SIGTERM then SIGINT
    # would run SIGINT's first. The wakeup fd gets each signal's number from
    # the C handler as it arrives, so the first to arrive can be read back.
    arrived, wakeup = os.pipe()
    os.set_blocking(arrived, False)
    os.set_blocking(wakeup, False)
    signal.set_wakeup_fd(wakeup, warn_on_full_buffer=False)

    def first_arrived(signum):
        try:
            numbers = os.read(arrived, 256)
        except OSError:  # nothing there (another wakeup fd took over)
            return signum
        return next((n for n in numbers if n in ours), signum)

    def on_signal(signum, _frame):
        global CANCELLED
        with IN_USE_LOCK:
            if CANCELLED:
                return  # the first signal decides the exit, as in Rust
            CANCELLED = True
            ids = sorted(IN_USE)
        signum = first_arrived(signum)
        name = signal.Signals(signum).name
        try:
            # Every server at once: each has its own deadline's worth.
            from concurrent.futures import ThreadPoolExecutor

            by_server = {}
            for server, thread_id in ids:
                by_server.setdefault(server, []).append(thread_id)
            with ThreadPoolExecutor(max_workers=max(1, len(by_server))) as pool:
                n = sum(pool.map(lambda item: kill_queries(cfg["servers"][item[0]], *item),
                                 by_server.items()))
            said = {0: "no query was running",
                    1: "cancelled the running query on the server"}.get(
                n, f"cancelled {n} running queries on the server")
        except Exception as e:  # noqa: BLE001 - one line, then exit anyway
            said = f"could not cancel the running queries on the server: {e}"
        say_and_exit(f"error: interrupted by {name}; {said}", 128 + signum)

    for signum in ours:
        signal.signal(signum, on_signal)


def say_and_exit(line, code):
    """Writes `line` to stderr and exits, waiting at most 0.2 s for the
    write: a full pipe must not keep the process from exiting."""
    done = threading.Event()

    def write():
        try:
            os.write(2, (line + "\n").encode())
        except OSError:
            pass
        done.set()

    threading.Thread(target=write, daemon=True).start()
    done.wait(0.2)
    os._exit(code)


# How to borrow an idle connection of the run's pool, by server index: a
# function returning (execute, close), or None when none is idle. Each
# script registers its pools' (engine() does for SQLAlchemy's).
IDLE = {}


def idle_of_engine(engine):
    """(execute, close) over an idle connection of a SQLAlchemy pool, taken
    out of it for good (the process exits after the kills), or None. Its
    queue's lock is reentrant: a signal handler that interrupts the main
    thread inside the pool does not deadlock."""
    if engine.pool.checkedin() == 0:
        return None
    try:
        conn = engine.raw_connection()
    except Exception:  # noqa: BLE001 - taken meanwhile: a connection of its own then
        return None
    cursor = conn.cursor()

    def execute(sql):
        cursor.execute(sql)
        return cursor.fetchall()

    return execute, lambda: None


def killer_connection(server, index):
    """(execute, close) for the KILL QUERYs on `server`: over an idle
    connection of the run's pool if there is one, else over a connection of
    its own, as in Rust (driver_mysql's killer): a server whose per-user
    limit equals the budget refuses one more login."""
    borrow = IDLE.get(index)
    borrowed = borrow() if borrow else None
    if borrowed is not None:
        return borrowed
    import pymysql

    conn = pymysql.connect(host=server["host"], port=server["port"], user=server["user"],
                           password=server["password"], connect_timeout=1,
                           read_timeout=1, write_timeout=1)
    cursor = conn.cursor()

    def execute(sql):
        cursor.execute(sql)
        return cursor.fetchall()

    return execute, conn.close


def kill_queries(server, index, ids):
    """KILL QUERY each id on `server` (the run's server number `index`)
    until none of them runs a query; returns how many were running.
    Bounded by GRACE. One victim at a time, as in Rust (common::interrupt):
    the next KILL waits up to PACE for the last victim to stop, because
    MariaDB stalls a KILL for 2 s when it finds the victim's wait mutex
    busy, and a victim just woken holds it."""
    if not ids:
        return 0
    import pymysql

    deadline = time.monotonic() + GRACE
    execute, close = killer_connection(server, index)
    try:
        def still_running(among):
            # 'Busy': the server is busy with the connection itself (a
            # KILL holds it), so its query has not ended yet.
            listed = ", ".join(str(int(i)) for i in among)
            return [int(row[0]) for row in execute(
                "SELECT ID FROM information_schema.PROCESSLIST "
                f"WHERE ID IN ({listed}) AND COMMAND IN ('Query', 'Busy')")]

        while time.monotonic() < deadline:
            left = still_running(ids)
            if not left:
                return len(ids)
            for i in left:
                try:
                    execute(f"KILL QUERY {int(i)}")
                except pymysql.err.OperationalError as e:
                    if e.args[0] != 1094:  # unknown thread: it has ended
                        raise
                paced = min(deadline, time.monotonic() + PACE)
                while still_running([i]) and time.monotonic() < paced:
                    time.sleep(0.002)
            time.sleep(0.05)
        raise RuntimeError(f"queries were still running after {GRACE} s")
    finally:
        close()


def thread_per_query(queries, work, out):
    """Starts one thread per query, all at once, waits for all, and
    re-raises the first error (the blog's scripts lost them). Each query is
    submitted when its thread is started: work(label, sql, submitted_us)."""
    errors = []

    def guarded(label, sql, submitted):
        try:
            work(label, sql, submitted)
        except Exception as e:  # noqa: BLE001
            errors.append(e)
            FAILED.set()

    threads = []
    for label, sql in queries:
        threads.append(threading.Thread(target=guarded, args=(label, sql, out.now_us())))
        threads[-1].start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# --- the digest -------------------------------------------------------------
# The Rust binaries' order-independent digest (crates/model/src/digest.rs):
# per row, FNV-1a 64 over each value's text form (1, its length as 8 bytes
# little-endian, the bytes; NULL is one 0 byte), finished by a 64-bit mixer;
# rows summed modulo 2^64. PyMySQL converts values to Python types: the
# digest turns them back into the text the server sent. Pure Python costs
# about a microsecond per byte, so it is computed only with --digests (the
# tests' check that both languages return the same rows), never in a run
# whose times are reported.

MASK = (1 << 64) - 1
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def text_of(value):
    """The MySQL text-protocol form of a value PyMySQL converted."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ").encode()
    if isinstance(value, datetime.date):
        return value.isoformat().encode()
    return str(value).encode()


def row_hash(values):
    h = FNV_OFFSET

    def feed(data):
        nonlocal h
        for byte in data:
            h = ((h ^ byte) * FNV_PRIME) & MASK

    for value in values:
        text = text_of(value)
        if text is None:
            feed(b"\0")
        else:
            feed(b"\1")
            feed(len(text).to_bytes(8, "little"))
            feed(text)
    z = h
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def digest(rows):
    return f"{sum(row_hash(r) for r in rows) & MASK:016x}"


class Output:
    """The run's results and its clock. The wall time stops when the last
    result is in, as in the Rust binaries (before pools are closed).

    Digests are computed only with --digests: pure-Python hashing costs
    about a microsecond per byte (seconds per report run), and under the GIL
    it would slow every other query of the run too, so a run that hashes
    has neither its wall time nor its timestamps worth reporting. Tests ask
    for digests; bench.sh's profile runs do not."""

    def __init__(self, name, budget, expected, digests=False, servers=()):
        import resource

        self.name, self.budget, self.expected, self.digests = name, budget, expected, digests
        self.servers = list(servers)
        self.results = {}
        self.lock = threading.Lock()
        self.wall_us = None
        # The process's CPU time at the clock's two points, as in Rust: the
        # client's cost of the work itself, without start-up and output.
        self.usage = lambda: resource.getrusage(resource.RUSAGE_SELF)
        self.ru_started, self.ru_done = self.usage(), None
        self.started = time.perf_counter()

    def now_us(self):
        return int((time.perf_counter() - self.started) * 1e6)

    def add(self, label, submitted_us, fetched):
        rows = fetched.rows
        first = tuple(rows[0]) if rows else None
        hashed = digest(rows) if self.digests else None
        # Only the count, first row and timestamps are kept: holding every
        # row to the end would be memory no approach needs.
        fetched.rows = None
        with self.lock:
            self.results[label] = (len(rows), first, hashed, submitted_us, fetched)
            if len(self.results) == self.expected:
                self.wall_us = self.now_us()
                self.ru_done = self.usage()

    def print(self, as_json=False):
        if len(self.results) != self.expected:
            fail(f"{self.expected - len(self.results)} queries have no result")
        wall = self.wall_us / 1e6
        import resource

        ru = resource.getrusage(resource.RUSAGE_SELF)
        if as_json:
            import json

            def query(label):
                rows, first, hashed, submitted, f = self.results[label]
                return {
                    "label": label, "rows": rows, "digest": hashed,
                    "first_row": None if first is None else [
                        None if v is None else text_of(v).decode("utf-8", "replace") for v in first],
                    "submitted_us": submitted, "connected_us": f.connected_us,
                    "first_row_us": f.first_row_us, "finished_us": f.finished_us,
                    "connection_id": f.connection_id,
                    **({"server": f.server} if len(self.servers) > 1 else {}),
                    **({"moved_from": f.moved_from} if f.moved_from is not None else {}),
                }

            sys.stdout.write(json.dumps({
                "approach": self.name, "workload": os.environ.get("DBIO_WORKLOAD", "report"),
                "budget": self.budget, "server": self.servers[0], "wall_us": self.wall_us,
                **({"servers": self.servers} if len(self.servers) > 1 else {}),
                # Counted by the Rust pool only; the budget test checks the
                # Python scripts on the server side.
                "peak_connections": None,
                "queries": [query(label) for label in sorted(self.results)],
                "cpu_user_us": int(ru.ru_utime * 1e6), "cpu_sys_us": int(ru.ru_stime * 1e6),
                "max_rss_kib": ru.ru_maxrss,
                "run_cpu_user_us": int((self.ru_done.ru_utime - self.ru_started.ru_utime) * 1e6),
                "run_cpu_sys_us": int((self.ru_done.ru_stime - self.ru_started.ru_stime) * 1e6),
            }, indent=2) + "\n")
            return
        # One write for the whole output, as the Rust binaries' one buffer:
        # print() per line is two system calls each with PYTHONUNBUFFERED.
        total, lines = 0, []
        for label in sorted(self.results):
            count, first = self.results[label][:2]
            total += count
            shown = "(" + ", ".join(str(v) for v in first) + ")" if first else "-"
            lines.append(f"{label}: {count:>5} rows  first {shown}")
        lines.append(f"{self.name}: {self.expected} queries, {total} rows in {wall:.3f} s; budget {self.budget}; "
                     f"cpu {ru.ru_utime:.3f} s user + {ru.ru_stime:.3f} s sys; max rss {ru.ru_maxrss} KiB")
        moved = {}
        for result in self.results.values():
            if result[4].moved_from is not None:
                moved[result[4].moved_from] = moved.get(result[4].moved_from, 0) + 1
        for server in sorted(moved):
            lines.append(f"{self.name}: {moved[server]} queries moved from server {server + 1} "
                         f"({self.servers[server]}), lost during the run")
        sys.stdout.write("\n".join(lines) + "\n")


# What the SQLAlchemy-based scripts import, before the run's clock starts.
SYNC_DRIVERS = ("sqlalchemy", "sqlalchemy.engine", "pymysql", "pymysql.cursors")


def main(name, body, drivers=SYNC_DRIVERS):
    """Runs body(cfg, queries, output) and prints (`--json`: the report as
    JSON, like the Rust binaries); any failure is one line. The driver
    modules are imported first: as the Rust binaries' set-up, importing is
    not part of the run's wall time (hyperfine's time includes it)."""
    as_json, digests, template, args = False, False, None, sys.argv[1:]
    # A flag's variable as clap reads it: set and not one of its false words.
    allow_writes = os.environ.get("DBIO_ALLOW_WRITES", "").lower() not in FALSEY
    while args:
        arg = args.pop(0)
        if arg == "--json":
            as_json = True
        elif arg == "--digests":
            digests = True
        elif arg == "--queries" and args:
            template = args.pop(0)
        elif arg == "--allow-writes":
            allow_writes = True
        else:
            fail(f"unknown argument {arg} (--json, --digests, --queries FILE, --allow-writes; "
                 "settings come from DATABASE_URL and DBIO_CONNECTIONS)")
    cfg = settings()
    planned = plan(template)
    if allow_writes and "dashboard" not in planned:
        fail("--allow-writes applies to a dashboard (--queries FILE with statements of its own, no `{}`)")
    # A dashboard's sessions are read-only: the server refuses its writes.
    read_only = "dashboard" in planned and not allow_writes
    cfg["init_command"] = READ_ONLY_SESSION if read_only else None
    cancel_on_signals(cfg)
    servers = cfg["servers"]
    try:
        # Every server has the dataset and, with several, the same one as
        # the first (as the Rust binaries check); the key range is the first's.
        first = None
        seen = []
        for i, server in enumerate(servers):
            probe = PROBE if i == 0 else Probe()
            try:
                probe.open({**cfg, **server})
                if len(servers) > 1:
                    identity = probe.server_identity()
                    if identity in seen:
                        same = seen.index(identity)
                        fail(f"server {i + 1} ({shown_url(server)}) is server {same + 1} "
                             f"({shown_url(servers[same])}) again: both say they are "
                             f"{identity[0]}:{identity[1]} with data in {identity[2]}; "
                             "give each server once (its budget is per server)")
                    seen.append(identity)
                    lag = probe.lag()
                    which = f"server {i + 1} ({shown_url(server)})"
                    if lag is None:
                        fail(f"{which} is a replica that is not replicating now (its lag is unknown): "
                             "start its replication, or leave it out")
                    if isinstance(lag, int) and lag > cfg["max_lag"]:
                        fail(f"{which} is {lag} s behind its primary, more than --max-lag "
                             f"{cfg['max_lag']} s: its reads would see other data")
                if planned["workload"] != "sleep":  # sleeps read no table
                    probe.check_dataset()
                    if len(servers) > 1:
                        identity = probe.identity()
                        if first is None:
                            first = identity
                        elif identity != first:
                            fail(f"server {i + 1} ({shown_url(server)}) holds another dataset "
                                 f"({identity}) than server 1 ({first}): every server of a run must hold the same")
                if i > 0:
                    probe.close()
            except Exception as e:  # noqa: BLE001 - named, one line
                if len(servers) > 1:
                    raise RuntimeError(f"server {i + 1} ({shown_url(server)}): {e}") from e
                raise
        work = build(planned)
    except Exception as e:  # noqa: BLE001 - the probe: one clear line
        fail(f"{type(e).__name__}: {e}")
    finally:
        PROBE.close()
    import importlib

    for module in drivers:
        importlib.import_module(module)
    out = Output(name, cfg["budget"], len(work), digests=digests,
                 servers=[shown_url(server) for server in servers])
    try:
        body(cfg, work, out)
    except Exception as e:  # noqa: BLE001 - the point is one clear line
        hint = ""
        if read_only and error_code(e) == 1792:
            hint = " (a dashboard runs on read-only sessions: --allow-writes lets its statements write)"
        fail(f"{type(e).__name__}: {e}{hint}")
    try:
        out.print(as_json)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head -1`): quiet, as for any filter.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
