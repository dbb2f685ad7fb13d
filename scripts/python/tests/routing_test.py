"""dbio.routing: the router's choice and the failover's decisions, as
crates/common/src/route.rs and the Rust drivers make them."""
import pymysql
import pytest

from dbio.routing import Failover, Router, ServersLost


def test_the_router_takes_the_fewest_in_flight_then_turns():
    router = Router(3, ["a", "b", "c"])
    assert [router.enter() for _ in range(3)] == [0, 1, 2]
    router.leave(1)
    assert router.enter() == 1, "the one with the fewest in flight"
    router.lose(1)
    router.leave(1)
    assert router.enter() in (0, 2)
    for server in (0, 2):
        router.lose(server)
    with pytest.raises(ServersLost, match="every server was lost during the run: a, b, c"):
        router.enter()


def lost():
    return pymysql.err.OperationalError(2013, "Lost connection to server during query")


def test_a_lost_server_moves_the_query_once():
    router = Router(3, ["a", "b", "c"])
    failover = Failover(router)
    failover.failed(0, lost())
    assert failover.moved_from == 0 and router.lost == {0}
    with pytest.raises(pymysql.err.OperationalError):
        failover.failed(1, lost())
    assert router.lost == {0, 1}, "a second loss fails the query, and the server is lost"


def test_the_last_server_lost_names_every_server():
    router = Router(2, ["a", "b"])
    failover = Failover(router)
    failover.failed(1, lost())
    with pytest.raises(ServersLost, match="a, b"):
        failover.failed(0, lost())


def test_other_errors_and_a_single_server_are_not_moved():
    failover = Failover(Router(2))
    syntax = pymysql.err.ProgrammingError(1064, "syntax")
    with pytest.raises(pymysql.err.ProgrammingError):
        failover.failed(0, syntax)
    with pytest.raises(pymysql.err.OperationalError):
        Failover(Router(1)).failed(0, lost())
    assert failover.moved_from is None
