"""concurrent.futures.ThreadPoolExecutor with budget workers per server, results as completed (test_cft.py)."""
from concurrent.futures import ThreadPoolExecutor, as_completed

from dbio.cli import main
from dbio.drain import tolerated
from dbio.pools import engine, query
from dbio.schedule import release


def body(cfg, queries, out):
    pool = engine(cfg, cfg["budget"], out)

    def work(sql):
        return query(pool, sql, out)

    with ThreadPoolExecutor(max_workers=cfg["total_budget"]) as executor:
        futures = {}
        for label, sql, due in queries:
            submitted = release(out, due)  # when handed to the executor
            futures[executor.submit(work, sql)] = (label, submitted)
        for future in as_completed(futures):
            label, submitted = futures[future]
            try:
                out.add(label, submitted, future.result())
            except Exception as e:  # noqa: BLE001 - the drain's, or re-raised
                tolerated(e)


main("py_test_cft", body)
