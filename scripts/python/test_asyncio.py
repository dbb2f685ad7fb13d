"""asyncio: one task per query over an aiomysql pool capped at the budget (test_asyncio.py)."""
import asyncio

from dbio_common import main, running


def body(cfg, queries, out):
    import aiomysql

    async def run():
        pool = await aiomysql.create_pool(host=cfg["host"], port=cfg["port"], user=cfg["user"],
                                          password=cfg["password"], db=cfg["db"],
                                          minsize=0, maxsize=cfg["budget"])

        async def work(label, sql):
            async with pool.acquire() as conn:
                async with conn.cursor() as cursor:
                    with running(conn.thread_id()):
                        await cursor.execute(sql)
                        rows = await cursor.fetchall()
                    out.add(label, rows)

        try:
            await asyncio.gather(*(work(label, sql) for label, sql in queries))
        finally:
            pool.close()
            await pool.wait_closed()

    asyncio.run(run())


main("py_test_asyncio", body)
