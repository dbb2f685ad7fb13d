"""Serial: one connection, the queries one after another (the blog's test_single.py)."""
from dbio_common import engine, main, run_sql


def body(cfg, queries, out):
    with engine(cfg, 1).connect() as conn:
        for label, sql in queries:
            out.add(label, run_sql(conn, sql))


main("py_test_single", body)
