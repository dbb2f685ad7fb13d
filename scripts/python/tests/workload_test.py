"""dbio.workload and dbio.splitmix: the checks and the query lists exactly
as crates/model/src/workload.rs makes them."""
import pytest

from dbio import splitmix
from dbio.errors import Refused
from dbio.workload import batch, build, plan


def test_the_sequence_is_the_published_splitmix64():
    # The reference's first outputs from seed 0, as splitmix.rs's unit test.
    draws = splitmix.sequence(0)
    assert [next(draws), next(draws)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]


def test_the_report_is_the_template_over_a_to_z():
    built = batch({"workload": "report", "template": "SELECT '{}%'"})
    assert [label for label, _ in built] == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    assert built[0][1] == "SELECT 'A%'"


def test_sleeps_are_labelled_to_sort_and_return_their_label():
    built = batch({"workload": "sleep", "count": 10, "sleep_ms": 1500})
    assert built[0] == ("s01", "SELECT SLEEP(1.500) AS slept, 's01' AS q")
    assert built[9][0] == "s10"


def test_point_keys_are_drawn_in_range_and_the_same_every_time():
    planned = {"workload": "point", "count": 200, "sleep_ms": None}
    first = batch(planned, (10001, 10100))
    assert first == batch(planned, (10001, 10100))
    keys = [int(sql.rsplit("= ", 1)[1]) for _, sql in first]
    assert all(10001 <= k <= 10100 for k in keys)
    assert len(set(keys)) > 50, "drawn, not one key"
    assert first[0][0] == "p001"


@pytest.mark.parametrize("env, message", [
    ({"DBIO_WORKLOAD": "write"}, "must be report, point or sleep"),
    ({"DBIO_WORKLOAD": "point", "DBIO_SLEEP_MS": "5"}, "--sleep-ms applies to --workload sleep"),
    ({"DBIO_COUNT": "5"}, "the report is 26 queries"),
    ({"DBIO_WORKLOAD": "sleep", "DBIO_COUNT": "0"}, "--count must be at least 1"),
])
def test_a_setting_that_would_be_ignored_or_is_out_of_range_is_refused(monkeypatch, env, message):
    for name in ("DBIO_WORKLOAD", "DBIO_COUNT", "DBIO_SLEEP_MS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(Refused, match=message):
        plan()


def test_a_file_without_braces_is_a_dashboard(tmp_path, monkeypatch):
    monkeypatch.delenv("DBIO_WORKLOAD", raising=False)
    monkeypatch.delenv("DBIO_COUNT", raising=False)
    file = tmp_path / "page.sql"
    file.write_text("SELECT 1;\nSELECT 'a;b';\n")
    assert build(plan(str(file))) == [("q1", "SELECT 1", 0), ("q2", "SELECT 'a;b'", 0)]
    file.write_text("SELECT '{}' ; SELECT 2")
    with pytest.raises(Refused, match="more than one statement"):
        plan(str(file))


OPEN = ("DBIO_WORKLOAD", "DBIO_COUNT", "DBIO_SLEEP_MS", "DBIO_ARRIVALS", "DBIO_REQUESTS", "DBIO_DRAIN_TIMEOUT",
        "DBIO_ARRIVAL_PROCESS", "DBIO_ARRIVAL_SEED", "DBIO_FANOUT")


def environment(monkeypatch, **env):
    for name in OPEN:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_an_open_loop_report_is_the_report_once_per_request(monkeypatch):
    environment(monkeypatch, DBIO_ARRIVALS="2", DBIO_REQUESTS="3", DBIO_ARRIVAL_PROCESS="constant")
    built = build(plan())
    assert len(built) == 3 * 26
    label, sql, due = built[26 + 1]
    assert (label, due) == ("r2/B", 500_000) and "'B%'" in sql
    assert built[-1][2] == 1_000_000


def test_an_open_loop_sleep_run_has_fanout_queries_per_request(monkeypatch):
    environment(monkeypatch, DBIO_WORKLOAD="sleep", DBIO_ARRIVALS="10", DBIO_REQUESTS="3",
                DBIO_ARRIVAL_PROCESS="constant", DBIO_FANOUT="2")
    built = build(plan())
    assert [label for label, _, _ in built] == ["r1/s1", "r1/s2", "r2/s3", "r2/s4", "r3/s5", "r3/s6"]
    assert [due for _, _, due in built] == [0, 0, 100_000, 100_000, 200_000, 200_000]


@pytest.mark.parametrize("env, message", [
    ({"DBIO_REQUESTS": "5"}, "--requests applies to an open-loop run"),
    ({"DBIO_FANOUT": "2"}, "--fanout applies"),
    ({"DBIO_ARRIVAL_SEED": "2"}, "--arrival-seed applies"),
    ({"DBIO_ARRIVAL_PROCESS": "poisson"}, "--arrival-process"),
    ({"DBIO_ARRIVALS": "1", "DBIO_WORKLOAD": "point", "DBIO_COUNT": "5"}, "--count is the closed loop's"),
    ({"DBIO_ARRIVALS": "1", "DBIO_FANOUT": "2"}, "--fanout applies to --workload point and sleep"),
    ({"DBIO_ARRIVALS": "1", "DBIO_WORKLOAD": "sleep", "DBIO_FANOUT": "0"}, "--fanout must be at least 1"),
    ({"DBIO_ARRIVALS": "1", "DBIO_WORKLOAD": "sleep", "DBIO_FANOUT": "2",
      "DBIO_REQUESTS": "1000000"}, "must be at most"),
    ({"DBIO_ARRIVALS": "0"}, "--arrivals must be more than 0"),
])
def test_open_loop_settings_that_would_be_ignored_or_clash_are_refused(monkeypatch, env, message):
    environment(monkeypatch, **env)
    with pytest.raises(Refused, match=message):
        plan()


@pytest.mark.parametrize("env", [{"DBIO_ARRIVALS": "-1"}, {"DBIO_ARRIVALS": "x"},
                                 {"DBIO_ARRIVALS": "1", "DBIO_ARRIVAL_PROCESS": "burst"}])
def test_values_that_do_not_parse_exit_2_as_clap_does(monkeypatch, env):
    environment(monkeypatch, **env)
    with pytest.raises(Refused) as refused:
        plan()
    assert refused.value.code == 2


@pytest.mark.parametrize("env, message", [
    ({"DBIO_DRAIN_TIMEOUT": "5"}, "--drain-timeout applies to an open-loop run"),
    ({"DBIO_ARRIVALS": "1", "DBIO_DRAIN_TIMEOUT": "0"}, "--drain-timeout must be at least 1"),
    ({"DBIO_ARRIVALS": "1", "DBIO_DRAIN_TIMEOUT": "86401"}, "--drain-timeout must be at most"),
])
def test_the_drain_timeout_is_checked_as_in_rust(monkeypatch, env, message):
    environment(monkeypatch, **env)
    with pytest.raises(Refused, match=message):
        plan()
