"""asyncio: one task per query over an aiomysql pool per server, each capped at the budget (test_asyncio.py)."""
import asyncio

from dbio import interrupt
from dbio.cli import main
from dbio.drain import tolerated
from dbio.report import Fetched
from dbio.routing import Failover, Router
from dbio.settings import shown_url


async def one_statement_only(conn):
    """aiomysql always asks for CLIENT_MULTI_STATEMENTS and has no option to
    leave it out: turn it off on each new connection (COM_SET_OPTION,
    MYSQL_OPTION_MULTI_STATEMENTS_OFF), so that the server runs one
    statement per query, as for the other drivers. One round trip per
    connection, like the Rust drivers' connection-info query."""
    from pymysql.constants import COMMAND

    await conn._execute_command(COMMAND.COM_SET_OPTION, b"\x01\x00")
    await conn._read_packet()


def idle_of_pool(pool):
    """(execute, close) over an idle connection of an aiomysql pool, for the
    KILL QUERYs of a signal (interrupt.kill_queries), or None. The handler
    runs inside the event loop, between two of its steps, where no coroutine
    can run: the connection's socket is used directly, blocking, one
    text-protocol statement at a time (an idle connection has nothing in
    flight). The connection is left out of the pool: the process exits next.
    `_free` and `_writer` are aiomysql 0.3's (pinned in requirements.txt)."""
    import os
    import socket

    import pymysql

    if not pool._free:
        return None
    conn = pool._free.pop()
    sock = socket.socket(fileno=os.dup(conn._writer.get_extra_info("socket").fileno()))
    sock.settimeout(1)

    def recv(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        return data

    def packet():
        head = recv(4)
        body = recv(int.from_bytes(head[:3], "little"))
        if body[:1] == b"\xff":  # ERR: code, '#', SQL state, message
            raise pymysql.err.OperationalError(int.from_bytes(body[1:3], "little"),
                                               body[9:].decode(errors="replace"))
        return body

    def eof(body):
        return body[:1] == b"\xfe" and len(body) < 9

    def execute(sql):
        payload = b"\x03" + sql.encode()  # COM_QUERY
        sock.sendall(len(payload).to_bytes(3, "little") + b"\x00" + payload)
        if packet()[:1] == b"\x00":
            return []  # OK: no result set
        while not eof(packet()):  # the column definitions
            pass
        rows = []
        while not eof(row := packet()):
            rows.append((row[1:1 + row[0]].decode(),))  # one short column: an id
        return rows

    return execute, sock.close


def body(cfg, queries, out):
    import aiomysql

    async def run():
        # One pool per server, each capped at the budget, and the router
        # between them (the Rust approaches' policy). Autocommit on, the
        # server's default, as the Rust drivers and the SQLAlchemy scripts
        # run (aiomysql's default is off: every query would join one open
        # transaction, and a write would be rolled back at the close).
        pools = [await aiomysql.create_pool(host=server["host"], port=server["port"],
                                            user=server["user"], password=server["password"],
                                            db=server["db"], minsize=0, maxsize=cfg["budget"],
                                            connect_timeout=cfg["connect_timeout"],
                                            autocommit=True, init_command=cfg["init_command"])
                 for server in cfg["servers"]]
        router = Router(len(pools), [shown_url(server) for server in cfg["servers"]])
        for i, pool in enumerate(pools):
            interrupt.IDLE[i] = lambda pool=pool: idle_of_pool(pool)
        # aiomysql 0.3's Pool.release wakes a waiter only when the connection
        # it gets back is alive: after a server broke its connections, the
        # tasks queued on its pool would wait for ever. A gate of `budget`
        # slots in front of each pool does the waiting instead (the pool
        # then always has a slot free), and wakes them either way.
        gates = [asyncio.Semaphore(cfg["budget"]) for _ in pools]
        single = set()

        async def attempt(sql, server):
            async with gates[server], pools[server].acquire() as conn:
                if id(conn) not in single:
                    await one_statement_only(conn)
                    single.add(id(conn))
                # Unbuffered, as in run_sql: the first row's arrival is seen.
                async with conn.cursor(aiomysql.SSCursor) as cursor:
                    with interrupt.running(server, conn.thread_id()):
                        connected = out.now_us()
                        await cursor.execute(sql)
                        first = await cursor.fetchone()
                        first_us = out.now_us()
                        rows = [first, *await cursor.fetchall()] if first is not None else []
                        return Fetched(rows, connected, first_us, out.now_us(),
                                       conn.thread_id(), server)

        async def work(label, sql, submitted):
            try:
                await routed(label, sql, submitted)
            except Exception as e:  # noqa: BLE001 - the drain's, or re-raised
                tolerated(e)

        async def routed(label, sql, submitted):
            # Once more on another server when the first was lost, as
            # pools.query and the Rust drivers do.
            failover = Failover(router)
            while True:
                server = router.enter()
                try:
                    fetched = await attempt(sql, server)
                except Exception as e:
                    failover.failed(server, e)
                    continue
                finally:
                    router.leave(server)
                fetched.moved_from = failover.moved_from
                break
            out.add(label, submitted, fetched)

        try:
            if out.open_loop:
                # A warm pool, as pools.warm gives the thread scripts.
                for pool in pools:
                    opened = [await pool.acquire() for _ in range(pool.maxsize)]
                    for conn in opened:
                        await one_statement_only(conn)
                        single.add(id(conn))
                        pool.release(conn)
                out.begin()
            # Each task is submitted when it is due: all at once in one
            # batch, as gather() is called.
            tasks = []
            for label, sql, due in queries:
                wait = (due - out.now_us()) / 1e6
                if wait > 0:
                    await asyncio.sleep(wait)
                tasks.append(asyncio.ensure_future(work(label, sql, out.now_us())))
            await asyncio.gather(*tasks)
        finally:
            for pool in pools:
                pool.close()
                await pool.wait_closed()

    asyncio.run(run())


main("py_test_asyncio", body, drivers=("aiomysql",))
