"""dbio.workload and dbio.splitmix: the checks and the query lists exactly
as crates/model/src/workload.rs makes them."""
import pytest

from dbio import splitmix
from dbio.errors import Refused
from dbio.workload import build, plan


def test_the_sequence_is_the_published_splitmix64():
    # The reference's first outputs from seed 0, as splitmix.rs's unit test.
    draws = splitmix.sequence(0)
    assert [next(draws), next(draws)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]


def test_the_report_is_the_template_over_a_to_z():
    built = build({"workload": "report", "template": "SELECT '{}%'"})
    assert [label for label, _ in built] == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    assert built[0][1] == "SELECT 'A%'"


def test_sleeps_are_labelled_to_sort_and_return_their_label():
    built = build({"workload": "sleep", "count": 10, "sleep_ms": 1500})
    assert built[0] == ("s01", "SELECT SLEEP(1.500) AS slept, 's01' AS q")
    assert built[9][0] == "s10"


def test_point_keys_are_drawn_in_range_and_the_same_every_time():
    planned = {"workload": "point", "count": 200, "sleep_ms": None}
    first = build(planned, (10001, 10100))
    assert first == build(planned, (10001, 10100))
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
    assert build(plan(str(file))) == [("q1", "SELECT 1"), ("q2", "SELECT 'a;b'")]
    file.write_text("SELECT '{}' ; SELECT 2")
    with pytest.raises(Refused, match="more than one statement"):
        plan(str(file))


def test_an_open_loop_setting_is_refused_not_ignored(monkeypatch):
    monkeypatch.delenv("DBIO_WORKLOAD", raising=False)
    monkeypatch.setenv("DBIO_ARRIVALS", "20")
    with pytest.raises(Refused, match="DBIO_ARRIVALS is an open-loop setting"):
        plan()
