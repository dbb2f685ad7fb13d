"""Serial: one connection, the queries one after another (the blog's test_single.py)."""
from dbio_common import connect, engine, main, run_sql


def body(cfg, queries, out):
    with connect(engine(cfg, 1)) as conn:
        for label, sql in queries:
            out.add(label, run_sql(conn, sql))


main("py_test_single", body)
