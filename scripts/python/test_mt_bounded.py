"""One thread per query, gated by a BoundedSemaphore with one permit per connection of every server (test_mt_bounded.py)."""
import threading

from dbio_common import connect, engine, main, run_sql, thread_per_query


def body(cfg, queries, out):
    pool = engine(cfg, cfg["budget"])
    gate = threading.BoundedSemaphore(cfg["slots"])

    def work(label, sql, submitted):
        with gate:
            with connect(pool) as conn:
                out.add(label, submitted, run_sql(conn, sql, out))

    thread_per_query(queries, work, out)


main("py_test_mt_bounded", body)
