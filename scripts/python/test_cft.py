"""concurrent.futures.ThreadPoolExecutor with budget workers, results as completed (test_cft.py)."""
from concurrent.futures import ThreadPoolExecutor, as_completed

from dbio_common import connect, engine, main, run_sql


def body(cfg, queries, out):
    pool = engine(cfg, cfg["budget"])

    def work(sql):
        with connect(pool) as conn:
            return run_sql(conn, sql)

    with ThreadPoolExecutor(max_workers=cfg["budget"]) as executor:
        futures = {executor.submit(work, sql): label for label, sql in queries}
        for future in as_completed(futures):
            out.add(futures[future], future.result())


main("py_test_cft", body)
