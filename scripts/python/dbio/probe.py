"""One connection to each server before the clock, as the Rust binaries'
probe (crates/common/src/cli.rs): it proves the server answers within
DBIO_CONNECT_TIMEOUT (connect, handshake and login: PyMySQL bounds only the
TCP connect unless a read timeout is set, and aiomysql only that, so a
listener that never answers hung the scripts), refuses a dataset whose load
did not finish, one server under two URLs, a replica too far behind, and
asks the point workload's key range."""

from dbio.errors import Refused
from dbio.settings import shown_url
from dbio.workload import reads_tables


class Probe:
    """One server's probe connection."""

    def __init__(self):
        self.conn = None

    def open(self, cfg):
        import socket

        import pymysql

        t = cfg["connect_timeout"]
        try:
            self.conn = pymysql.connect(host=cfg["host"], port=cfg["port"], user=cfg["user"],
                                        password=cfg["password"], database=cfg["db"],
                                        connect_timeout=t, read_timeout=t, write_timeout=t)
        except pymysql.err.OperationalError as e:
            cause = e.args[1] if len(e.args) > 1 else ""
            if "timed out" in str(cause) or isinstance(e.__cause__, socket.timeout):
                raise Refused(f"connected to {cfg['host']}:{cfg['port']}, but the server did not "
                              f"answer the MySQL handshake within {t} s") from None
            raise

    def one(self, sql):
        with self.conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()

    def check_dataset(self):
        import pymysql

        try:
            row = self.one("SELECT v FROM _dbio_meta WHERE k = 'status'")
        except pymysql.err.ProgrammingError as e:
            if e.args[0] == 1146:  # not loaded by dbio: taken as it is
                return
            raise
        status = row[0] if row else None
        if status == "complete":
            return
        if status is None:
            raise Refused("the dataset has no load status in _dbio_meta (a load that did not "
                          "finish); reload it with `dbio load --force`")
        raise Refused(f"the dataset is incomplete: its load ended in state `{status}` (a load "
                      "that did not finish, e.g. on a full disk); reload it with `dbio load --force`")

    def identity(self):
        """What makes two loaded datasets the same (workload.rs's DATASET_IDENTITY)."""
        row = self.one("SELECT GROUP_CONCAT(CONCAT(k, '=', v) ORDER BY k SEPARATOR ' ') "
                       "FROM _dbio_meta WHERE k IN ('source', 'generator', 'scale', 'seed')")
        return row[0] if row else None

    def server_identity(self):
        """What the server says it is (workload.rs's SERVER_IDENTITY, and
        MySQL's server_uuid where it has one): one server reached under two
        spellings answers the same."""
        import pymysql

        identity = tuple(self.one("SELECT @@hostname, @@port, @@datadir"))
        try:
            identity += tuple(self.one("SELECT @@server_uuid"))
        except pymysql.err.MySQLError:  # MariaDB has none
            pass
        return identity

    def lag(self):
        """The replica's lag (Seconds_Behind_Master), "none" when it is no
        replica, "hidden" when the account may not see it, None when it does
        not replicate now (as common::cli's check)."""
        import pymysql

        try:
            with self.conn.cursor() as cursor:
                cursor.execute("SHOW SLAVE STATUS")
                row = cursor.fetchone()
                names = [d[0] for d in cursor.description or ()]
        except pymysql.err.OperationalError as e:
            if e.args and e.args[0] == 1227:
                return "hidden"
            raise
        if row is None:
            return "none"
        lag = dict(zip(names, row)).get("Seconds_Behind_Master")
        return None if lag is None else int(lag)

    def key_range(self):
        """The range point lookups draw their keys from."""
        lo, hi = self.one("SELECT MIN(emp_no), MAX(emp_no) FROM employees")
        if lo is None:
            raise Refused("the employees table is empty: load the dataset (`dbio up`) before the "
                          "point workload")
        return int(lo), int(hi)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def examine(cfg, planned):
    """Probes every server of the run, in order: each answers, each is a
    server of its own, a replica replicates within --max-lag, and each
    holds a complete dataset, the same as the first's. Returns the point
    workload's key range (the first server's), else None."""
    servers = cfg["servers"]
    several = len(servers) > 1
    first, seen, key_range = None, [], None
    for i, server in enumerate(servers):
        probe = Probe()
        try:
            probe.open({**cfg, **server})
            which = f"server {i + 1} ({shown_url(server)})"
            if several:
                identity = probe.server_identity()
                if identity in seen:
                    same = seen.index(identity)
                    raise Refused(f"{which} is server {same + 1} ({shown_url(servers[same])}) "
                                  f"again: both say they are {identity[0]}:{identity[1]} with data "
                                  f"in {identity[2]}; give each server once (its budget is per "
                                  "server)")
                seen.append(identity)
                lag = probe.lag()
                if lag is None:
                    raise Refused(f"{which} is a replica that is not replicating now (its lag is "
                                  "unknown): start its replication, or leave it out")
                if isinstance(lag, int) and lag > cfg["max_lag"]:
                    raise Refused(f"{which} is {lag} s behind its primary, more than --max-lag "
                                  f"{cfg['max_lag']} s: its reads would see other data")
            if reads_tables(planned):
                probe.check_dataset()
                if several:
                    identity = probe.identity()
                    if first is None:
                        first = identity
                    elif identity != first:
                        raise Refused(f"{which} holds another dataset ({identity}) than server 1 "
                                      f"({first}): every server of a run must hold the same")
            if i == 0 and planned["workload"] == "point":
                key_range = probe.key_range()
        except Refused:
            raise
        except Exception as e:  # noqa: BLE001 - named, one line
            if several:
                raise RuntimeError(f"server {i + 1} ({shown_url(server)}): {e}") from e
            raise
        finally:
            probe.close()
    return key_range
