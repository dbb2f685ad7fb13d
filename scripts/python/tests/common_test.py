"""dbio_common's pure parts: the number rules, the workload build, the
router and the row digest, each as the Rust side has them."""
import pytest

import dbio_common as common


@pytest.mark.parametrize("text, code", [
    ("99999999999999999999", 2), ("1_000", 2), (" 3 ", 2), ("３", 2), ("-1", 2),
    ("0", 1), ("3600001", 1),
])
def test_numbers_follow_the_rust_rules(monkeypatch, capsys, text, code):
    monkeypatch.setenv("DBIO_SLEEP_MS", text)
    with pytest.raises(SystemExit) as exit:
        common.whole("DBIO_SLEEP_MS", 50, "--sleep-ms", 1, common.MAX_SLEEP_MS)
    assert exit.value.code == code
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_a_number_in_range_is_taken_and_an_unset_one_is_the_default(monkeypatch):
    monkeypatch.setenv("DBIO_SLEEP_MS", "+250")
    assert common.whole("DBIO_SLEEP_MS", 50, "--sleep-ms", 1, common.MAX_SLEEP_MS) == 250
    monkeypatch.delenv("DBIO_SLEEP_MS")
    assert common.whole("DBIO_SLEEP_MS", 50, "--sleep-ms", 1, common.MAX_SLEEP_MS) == 50


def test_the_report_is_the_template_over_a_to_z():
    built = common.build({"workload": "report", "template": "SELECT '{}%'"})
    assert [label for label, _ in built] == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    assert built[0][1] == "SELECT 'A%'"


def test_sleeps_are_labelled_to_sort_and_return_their_label():
    built = common.build({"workload": "sleep", "count": 10, "sleep_ms": 1500})
    assert built[0] == ("s01", "SELECT SLEEP(1.500) AS slept, 's01' AS q")
    assert built[9][0] == "s10"


def test_point_keys_are_drawn_in_range_and_the_same_every_time(monkeypatch):
    monkeypatch.setattr(common.PROBE, "key_range", lambda: (10001, 10100))
    first = common.build({"workload": "point", "count": 200, "sleep_ms": 50})
    assert first == common.build({"workload": "point", "count": 200, "sleep_ms": 50})
    keys = [int(sql.rsplit("= ", 1)[1]) for _, sql in first]
    assert all(10001 <= k <= 10100 for k in keys)
    assert len(set(keys)) > 50, "drawn, not one key"
    assert first[0][0] == "p001"


def test_the_router_takes_the_fewest_in_flight_then_turns():
    router = common.Router(3, ["a", "b", "c"])
    assert [router.enter() for _ in range(3)] == [0, 1, 2]
    router.leave(1)
    assert router.enter() == 1, "the one with the fewest in flight"
    router.lose(1)
    router.leave(1)
    assert router.enter() in (0, 2)
    for server in (0, 2):
        router.lose(server)
    with pytest.raises(common.ServersLost, match="every server was lost during the run: a, b, c"):
        router.enter()


def test_the_digest_ignores_order_and_keeps_duplicates():
    rows = [(1, "a"), (2, None), (3, "")]
    assert common.digest(rows) == common.digest(list(reversed(rows)))
    assert common.digest(rows + rows[:1]) != common.digest(rows)
    assert common.digest([(None,)]) != common.digest([("",)]), "NULL is not the empty text"
    assert common.digest([("ab", "c")]) != common.digest([("a", "bc")]), "values keep their bounds"
    assert len(common.digest(rows)) == 16
