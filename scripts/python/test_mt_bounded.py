"""One thread per query, gated by a BoundedSemaphore with one permit per connection of every server (test_mt_bounded.py)."""
import threading

from dbio.cli import main
from dbio.pools import engine, query
from dbio.schedule import thread_per_query


def body(cfg, queries, out):
    pool = engine(cfg, cfg["budget"], out)
    gate = threading.BoundedSemaphore(cfg["total_budget"])

    def work(label, sql, submitted):
        with gate:
            out.add(label, submitted, query(pool, sql, out))

    thread_per_query(queries, work, out)


main("py_test_mt_bounded", body)
