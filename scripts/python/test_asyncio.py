"""asyncio: one task per query over an aiomysql pool capped at the budget (test_asyncio.py)."""
import asyncio

from dbio_common import main


def body(cfg, queries, out):
    import aiomysql

    async def run():
        pool = await aiomysql.create_pool(host=cfg["host"], port=cfg["port"], user=cfg["user"],
                                          password=cfg["password"], db=cfg["db"],
                                          minsize=0, maxsize=cfg["budget"])

        async def work(label, sql):
            async with pool.acquire() as conn:
                async with conn.cursor() as cursor:
                    await cursor.execute(sql)
                    out.add(label, await cursor.fetchall())

        try:
            await asyncio.gather(*(work(label, sql) for label, sql in queries))
        finally:
            pool.close()
            await pool.wait_closed()

    asyncio.run(run())


main("py_test_asyncio", body)
