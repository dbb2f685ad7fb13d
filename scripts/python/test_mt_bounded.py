"""One thread per query, gated by a BoundedSemaphore with one permit per connection (test_mt_bounded.py)."""
import threading

from dbio_common import engine, main, run_sql


def body(cfg, queries, out):
    pool = engine(cfg, cfg["budget"])
    gate = threading.BoundedSemaphore(cfg["budget"])
    errors = []

    def work(label, sql):
        with gate:
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


main("py_test_mt_bounded", body)
