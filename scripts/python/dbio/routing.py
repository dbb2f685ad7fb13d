"""Which server runs a query, and what happens when it is lost, as
crates/common/src/route.rs and the Rust drivers' failover decide it: the
server with the fewest queries in flight, ties in turn; a query whose
server went away runs once more on another, and a second loss fails it.
The thread scripts and the asyncio one share Failover."""

import threading

# Errors that mean the server went away (routing moves the query to
# another): shutdown in progress, connection killed, can't connect, server
# gone, connection lost.
LOST_CODES = {1053, 1927, 2003, 2006, 2013}


class ServersLost(Exception):
    def __init__(self, names):
        super().__init__(f"every server was lost during the run: {', '.join(names)}")


class Router:
    """The servers' queries in flight, counted from routing to the end of
    the query."""

    def __init__(self, servers, names=()):
        self.in_flight = [0] * servers
        self.names = list(names) or [f"server {i + 1}" for i in range(servers)]
        self.lost = set()
        self.next = 0
        self.lock = threading.Lock()

    def enter(self):
        """The server for the next query; raises ServersLost when every one
        was lost during the run."""
        with self.lock:
            n = len(self.in_flight)
            up = [i for i in range(n) if (self.next + i) % n not in self.lost]
            if not up:
                raise ServersLost(self.names)
            best = min(up, key=lambda i: (self.in_flight[(self.next + i) % n], i))
            server = (self.next + best) % n
            self.next = server + 1
            self.in_flight[server] += 1
            return server

    def leave(self, server):
        with self.lock:
            self.in_flight[server] -= 1

    def lose(self, server):
        with self.lock:
            self.lost.add(server)


class Failover:
    """One query's way through the servers. Each try is

        server = router.enter()
        try: ... run it on `server` ...
        except Exception as e: failover.failed(server, e); continue
        finally: router.leave(server)

    and the query's result records `moved_from`."""

    def __init__(self, router):
        self.router = router
        self.moved_from = None

    def failed(self, server, error):
        """After `error` on `server`: returns when the query is to be tried
        once more on another server; else raises (the error, or ServersLost
        when every server is lost)."""
        router = self.router
        if len(router.in_flight) == 1 or not server_lost(error):
            raise error
        router.lose(server)
        if self.moved_from is not None:
            if len(router.lost) == len(router.in_flight):
                raise ServersLost(router.names) from error
            raise error
        self.moved_from = server


def error_code(e):
    """The server's error number of `e` or of what caused it, if any."""
    while e is not None:
        if getattr(e, "args", None) and isinstance(e.args[0], int):
            return e.args[0]
        e = e.__cause__ or getattr(e, "orig", None)
    return None


def server_lost(e):
    """Whether `e` means the query's server went away, as the Rust
    model::Error::server_lost decides."""
    import pymysql

    if isinstance(e, pymysql.err.OperationalError) and e.args and e.args[0] in LOST_CODES:
        return True
    if isinstance(e, (ConnectionError, EOFError)):
        return True
    cause = e.__cause__ or getattr(e, "orig", None)
    return cause is not None and cause is not e and server_lost(cause)
