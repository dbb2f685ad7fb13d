"""Serial: one connection, the queries one after another (the blog's test_single.py)."""
from dbio.cli import main
from dbio.drain import tolerated
from dbio.pools import engine, query
from dbio.schedule import release


def body(cfg, queries, out):
    # Each query is submitted when the one before it has finished; the
    # first waits for the connection. One connection per server, taken
    # for each query from the server the router picks (with one server,
    # always the same connection).
    servers = engine(cfg, 1, out)
    for label, sql, due in queries:
        submitted = release(out, due)
        try:
            out.add(label, submitted, query(servers, sql, out))
        except Exception as e:  # noqa: BLE001 - the drain's, or re-raised
            tolerated(e)


main("py_test_single", body)
