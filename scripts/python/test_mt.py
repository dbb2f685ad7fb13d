"""One thread per query, all started at once, over one pool capped at the budget (test_mt.py)."""
import threading

from dbio_common import engine, main, run_sql


def body(cfg, queries, out):
    pool = engine(cfg, cfg["budget"])
    errors = []

    def work(label, sql):
        try:
            with pool.connect() as conn:
                out.add(label, run_sql(conn, sql))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=q) for q in queries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


main("py_test_mt", body)
