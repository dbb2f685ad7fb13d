"""Ctrl-C, kill and a closed terminal, as in the Rust binaries
(crates/common/src/interrupt.rs): on SIGINT, SIGTERM or SIGHUP, KILL QUERY
every server connection that runs a query, until none does, then exit with
128 + the signal. Without it the server goes on computing for a client that
has gone."""

import os
import threading
import time

IN_USE = set()
IN_USE_LOCK = threading.RLock()  # re-entered by a signal handler on the main thread
CANCELLED = False
SIGNALLED = False
GRACE = 1.5
PACE = 0.05

# How to borrow an idle connection of the run's pool, by server index: a
# function returning (execute, close), or None when none is idle. Each
# script registers its pools' (pools.engine() does for SQLAlchemy's).
IDLE = {}


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


def cancel_on_signals(servers):
    """Installs the handlers; `servers` are the run's servers' settings."""
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
            if SIGNALLED:
                return  # the first signal decides the exit, as in Rust
            mark_signalled()
            CANCELLED = True
            ids = sorted(IN_USE)
        signum = first_arrived(signum)
        name = signal.Signals(signum).name
        try:
            n = kill_all(servers, ids)
            said = {0: "no query was running",
                    1: "cancelled the running query on the server"}.get(
                n, f"cancelled {n} running queries on the server")
        except Exception as e:  # noqa: BLE001 - one line, then exit anyway
            said = f"could not cancel the running queries on the server: {e}"
        say_and_exit(f"error: interrupted by {name}; {said}", 128 + signum)

    for signum in ours:
        signal.signal(signum, on_signal)


def mark_signalled():
    global SIGNALLED
    SIGNALLED = True


def cancel(servers):
    """Cancels the run without exiting (an open loop's drain deadline): no
    query starts from now on, and each one running is killed on the server
    over a connection of the canceller's own (an idle one of the run's pool
    may not be borrowed from another thread). Returns how many ran."""
    global CANCELLED
    with IN_USE_LOCK:
        CANCELLED = True
        ids = sorted(IN_USE)
    return kill_all(servers, ids, borrow=False)


def kill_all(servers, ids, borrow=True):
    """KILL QUERY each (server, thread id) of `ids`, every server at once:
    each has its own deadline's worth. Returns how many ran."""
    from concurrent.futures import ThreadPoolExecutor

    by_server = {}
    for server, thread_id in ids:
        by_server.setdefault(server, []).append(thread_id)
    with ThreadPoolExecutor(max_workers=max(1, len(by_server))) as pool:
        return sum(pool.map(lambda item: kill_queries(servers[item[0]], *item, borrow=borrow),
                            by_server.items()))


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


def killer_connection(server, index, borrow=True):
    """(execute, close) for the KILL QUERYs on `server`: over an idle
    connection of the run's pool if there is one, else over a connection of
    its own, as in Rust (driver_mysql's killer): a server whose per-user
    limit equals the budget refuses one more login."""
    lend = IDLE.get(index) if borrow else None
    borrowed = lend() if lend else None
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


def kill_queries(server, index, ids, borrow=True):
    """KILL QUERY each id on `server` (the run's server number `index`)
    until none of them runs a query; returns how many were running.
    Bounded by GRACE. One victim at a time, as in Rust: the next KILL waits
    up to PACE for the last victim to stop, because MariaDB stalls a KILL
    for 2 s when it finds the victim's wait mutex busy, and a victim just
    woken holds it."""
    if not ids:
        return 0
    import pymysql

    deadline = time.monotonic() + GRACE
    execute, close = killer_connection(server, index, borrow)
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
