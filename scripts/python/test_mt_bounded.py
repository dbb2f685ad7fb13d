"""One thread per query, gated by a BoundedSemaphore with one permit per connection of every server (test_mt_bounded.py)."""
import threading

from dbio_common import engine, main, query, thread_per_query


def body(cfg, queries, out):
    pool = engine(cfg, cfg["budget"])
    gate = threading.BoundedSemaphore(cfg["slots"])

    def work(label, sql, submitted):
        with gate:
            out.add(label, submitted, query(pool, sql, out))

    thread_per_query(queries, work, out)


main("py_test_mt_bounded", body)
