"""Serial: one connection, the queries one after another (the blog's test_single.py)."""
from dbio_common import connect, engine, main, run_sql


def body(cfg, queries, out):
    # Each query is submitted when the one before it has finished; the
    # first waits for the connection.
    submitted = out.now_us()
    with connect(engine(cfg, 1)) as conn:
        for label, sql in queries:
            out.add(label, submitted, run_sql(conn, sql, out))
            submitted = out.now_us()


main("py_test_single", body)
