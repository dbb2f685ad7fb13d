"""dbio.settings: numbers by the Rust binaries' rules (clap's parse, then
the range), URLs as DATABASE_URL is checked."""
import pytest

from dbio import settings
from dbio.errors import Refused


@pytest.mark.parametrize("text, code", [
    ("99999999999999999999", 2), ("1_000", 2), (" 3 ", 2), ("３", 2), ("-1", 2),
    ("0", 1), ("3600001", 1),
])
def test_numbers_follow_the_rust_rules(monkeypatch, text, code):
    monkeypatch.setenv("DBIO_SLEEP_MS", text)
    with pytest.raises(Refused) as refused:
        settings.whole("DBIO_SLEEP_MS", 50, "--sleep-ms", 1, settings.MAX_SLEEP_MS)
    assert refused.value.code == code
    assert "\n" not in str(refused.value)


def test_a_number_in_range_is_taken_and_an_unset_one_is_the_default(monkeypatch):
    monkeypatch.setenv("DBIO_SLEEP_MS", "+250")
    assert settings.whole("DBIO_SLEEP_MS", 50, "--sleep-ms", 1, settings.MAX_SLEEP_MS) == 250
    monkeypatch.delenv("DBIO_SLEEP_MS")
    assert settings.whole("DBIO_SLEEP_MS", 50, "--sleep-ms", 1, settings.MAX_SLEEP_MS) == 50


def test_a_url_is_read_and_shown_without_its_password(monkeypatch):
    monkeypatch.delenv("DATABASE_URLS", raising=False)
    monkeypatch.setenv("DATABASE_URL", "mysql://me:s%40cret@db.example:3307/employees")
    monkeypatch.setenv("DBIO_CONNECTIONS", "4")
    cfg = settings.settings()
    assert (cfg["user"], cfg["password"], cfg["port"], cfg["budget"]) == ("me", "s@cret", 3307, 4)
    assert settings.shown_url(cfg) == "mysql://me:***@db.example:3307/employees"


@pytest.mark.parametrize("url", ["mysql:me:pw@host/db", "http://me:pw@host/db", "mysql://me:pw@host:x/db"])
def test_a_bad_url_is_refused_without_quoting_it(monkeypatch, url):
    monkeypatch.delenv("DATABASE_URLS", raising=False)
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(Refused) as refused:
        settings.settings()
    assert "pw" not in str(refused.value)


def test_the_total_budget_is_the_budget_on_every_server(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATABASE_URLS", "mysql://u@a/e, mysql://u@b/e,")
    monkeypatch.setenv("DBIO_CONNECTIONS", "3")
    assert settings.settings()["total_budget"] == 6
    monkeypatch.setenv("DATABASE_URLS", "mysql://u@a/e,mysql://u@A/e")
    with pytest.raises(Refused, match="given twice"):
        settings.settings()
