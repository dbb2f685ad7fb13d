"""How the thread scripts hand out their queries, where the blog's scripts
differ only in that: a thread per query."""

import threading
import time

from dbio.drain import drained
from dbio.pools import FAILED


def release(out, due_us):
    """Waits until `due_us` on the run's clock (at once in one batch) and
    returns now: when the query was released, its submitted_us. An open
    loop's one addition to every schedule."""
    wait = due_us / 1e6 - (time.perf_counter() - out.started)
    if wait > 0:
        time.sleep(wait)
    return out.now_us()


def thread_per_query(queries, work, out):
    """Starts one thread per query when it is due (all at once in one
    batch), waits for all, and re-raises the first error (the blog's scripts
    lost them). Each query is submitted when its thread is started:
    work(label, sql, submitted_us)."""
    errors = []

    def guarded(label, sql, submitted):
        try:
            work(label, sql, submitted)
        except Exception as e:  # noqa: BLE001
            if drained():
                return  # cancelled at the drain deadline: unfinished
            errors.append(e)
            FAILED.set()

    threads = []
    for label, sql, due in queries:
        threads.append(threading.Thread(target=guarded, args=(label, sql, release(out, due))))
        threads[-1].start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
