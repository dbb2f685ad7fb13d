"""One thread per query, all started at once, over one pool capped at the budget (test_mt.py)."""
from dbio.cli import main
from dbio.pools import engine, query
from dbio.schedule import thread_per_query


def body(cfg, queries, out):
    pool = engine(cfg, cfg["budget"], out)

    def work(label, sql, submitted):
        out.add(label, submitted, query(pool, sql, out))

    thread_per_query(queries, work, out)


main("py_test_mt", body)
