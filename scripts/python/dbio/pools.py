"""The thread scripts' pools: one SQLAlchemy engine (the blog's pool) per
server, each capped at the budget with no overflow and no reset, and one
query run on them with failover (routing.Failover)."""

import threading
from contextlib import contextmanager

from dbio import interrupt
from dbio.report import Fetched
from dbio.routing import Failover, Router, server_lost
from dbio.settings import shown_url

# Set when a query of the run failed: the queries waiting for a connection
# stop waiting.
FAILED = threading.Event()


class Servers:
    """One SQLAlchemy engine per server and the router between them."""

    def __init__(self, engines, names=()):
        self.engines = engines
        self.router = Router(len(engines), names)


def engine(cfg, pool_size, out):
    """The run's pools, `pool_size` connections per server; warm in an
    open loop (`warm`)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import URL

    engines = []
    for server in cfg["servers"]:
        url = URL.create("mysql+pymysql", username=server["user"], password=server["password"],
                         host=server["host"], port=server["port"], database=server["db"])
        # A short pool timeout, retried by checkout(): SQLAlchemy does not
        # wake threads waiting for a free connection when a connect fails,
        # so a long timeout would hang every waiter on a dead server.
        # No reset between queries, as in the Rust pool: no rollback when a
        # connection goes back (pool_reset_on_return=None), and autocommit on,
        # the server's default, as the Rust drivers leave it.
        engines.append(create_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=1,
                                     isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
                                     connect_args={"connect_timeout": cfg["connect_timeout"],
                                                   "init_command": cfg["init_command"]}))
    for i, made in enumerate(engines):
        interrupt.IDLE[i] = lambda made=made: idle_of_engine(made)
    servers = Servers(engines, [shown_url(server) for server in cfg["servers"]])
    if out.open_loop:
        warm(servers, out)
    return servers


def warm(servers, out):
    """Opens every connection of every pool (SQLAlchemy's first-connect
    set-up included) and starts the run's clock again: an open loop's
    latencies are those of a running service, whose pool is warm, as the
    Rust approaches open theirs before their clock starts. Opened lazily
    instead, the first requests of every thread script waited 40-60 ms
    longer than the ideal queue (results/2026-12-03-vm)."""
    for made in servers.engines:
        # Held together, so that each one asked for is a new one.
        opened = [made.raw_connection() for _ in range(made.pool.size())]
        for conn in opened:
            conn.close()
    out.begin()


@contextmanager
def checkout(made):
    """A DBAPI connection of SQLAlchemy pool `made`, waiting for a free one
    for as long as no other query has failed; given back at the end.

    The DBAPI connection, not SQLAlchemy's Connection: in SQLAlchemy 2 the
    latter ends every `with` block with a ROLLBACK, one more round trip per
    query that the Rust approaches do not make (the server's Com_rollback
    counted one per query)."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    while True:
        try:
            conn = made.raw_connection()
            break
        except PoolTimeout:
            if FAILED.is_set():
                raise RuntimeError("stopped after another query failed") from None
    try:
        yield conn
    except Exception as e:
        # A connection its server broke is not given back: the next query
        # on it would fail on its closed socket instead.
        if server_lost(e):
            conn.invalidate()
        raise
    finally:
        conn.close()


def query(servers, sql, out):
    """Runs `sql` on a connection of the server the router picks and
    fetches every row; once more on another server when that one was lost
    (routing.Failover)."""
    router = servers.router
    failover = Failover(router)
    while True:
        server = router.enter()
        try:
            with checkout(servers.engines[server]) as conn:
                fetched = run_sql(conn, sql, out, server)
        except Exception as e:
            failover.failed(server, e)
            continue
        finally:
            router.leave(server)
        fetched.moved_from = failover.moved_from
        return fetched


def run_sql(conn, sql, out, server):
    """Runs one query on a pooled DBAPI connection of server `server` and
    fetches every row.

    Unbuffered (SSCursor), as the Rust drivers stream: PyMySQL's default
    cursor reads the whole result inside execute(), so the first row's
    arrival could not be seen. The same rows go through the same
    conversion either way."""
    from pymysql.cursors import SSCursor

    thread_id = conn.dbapi_connection.thread_id()
    with interrupt.running(server, thread_id):
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


def idle_of_engine(made):
    """(execute, close) over an idle connection of a SQLAlchemy pool, taken
    out of it for good (the process exits after the kills), or None. Its
    queue's lock is reentrant: a signal handler that interrupts the main
    thread inside the pool does not deadlock."""
    if made.pool.checkedin() == 0:
        return None
    try:
        conn = made.raw_connection()
    except Exception:  # noqa: BLE001 - taken meanwhile: a connection of its own then
        return None
    cursor = conn.cursor()

    def execute(sql):
        cursor.execute(sql)
        return cursor.fetchall()

    return execute, lambda: None
