"""One thread per query, all started at once, over one pool capped at the budget (test_mt.py)."""
from dbio_common import connect, engine, main, run_sql, thread_per_query


def body(cfg, queries, out):
    pool = engine(cfg, cfg["budget"])

    def work(label, sql, submitted):
        with connect(pool) as conn:
            out.add(label, submitted, run_sql(conn, sql, out))

    thread_per_query(queries, work, out)


main("py_test_mt", body)
