"""Serial: one connection, the queries one after another (the blog's test_single.py)."""
from dbio.cli import main
from dbio.pools import engine, query


def body(cfg, queries, out):
    # Each query is submitted when the one before it has finished; the
    # first waits for the connection. One connection per server, taken
    # for each query from the server the router picks (with one server,
    # always the same connection).
    servers = engine(cfg, 1)
    submitted = out.now_us()
    for label, sql in queries:
        out.add(label, submitted, query(servers, sql, out))
        submitted = out.now_us()


main("py_test_single", body)
