"""How the thread scripts hand out their queries, where the blog's scripts
differ only in that: a thread per query."""

import threading

from dbio.pools import FAILED


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
