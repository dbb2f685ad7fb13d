"""asyncio: one task per query over an aiomysql pool capped at the budget (test_asyncio.py)."""
import asyncio

from dbio_common import Fetched, main, running


def body(cfg, queries, out):
    import aiomysql

    async def run():
        pool = await aiomysql.create_pool(host=cfg["host"], port=cfg["port"], user=cfg["user"],
                                          password=cfg["password"], db=cfg["db"],
                                          minsize=0, maxsize=cfg["budget"])

        async def work(label, sql, submitted):
            async with pool.acquire() as conn:
                # Unbuffered, as in run_sql: the first row's arrival is seen.
                async with conn.cursor(aiomysql.SSCursor) as cursor:
                    with running(conn.thread_id()):
                        connected = out.now_us()
                        await cursor.execute(sql)
                        first = await cursor.fetchone()
                        first_us = out.now_us()
                        rows = [first, *await cursor.fetchall()] if first is not None else []
                        fetched = Fetched(rows, connected, first_us, out.now_us(), conn.thread_id())
                    out.add(label, submitted, fetched)

        try:
            # Every task is submitted at once, as gather() is called.
            await asyncio.gather(*[work(label, sql, out.now_us()) for label, sql in queries])
        finally:
            pool.close()
            await pool.wait_closed()

    asyncio.run(run())


main("py_test_asyncio", body, drivers=("aiomysql",))
