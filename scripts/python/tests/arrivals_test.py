"""dbio.arrivals: the same schedules as crates/model/src/arrivals.rs (its
unit tests' cases); the integration tests compare both languages' due
times run by run."""
import pytest

from dbio.arrivals import DEFAULT_SEED, MAX_REQUESTS, check, due_us, parse_rate
from dbio.errors import Refused


def test_a_constant_process_spaces_requests_evenly_from_zero():
    assert due_us(4.0, 5, "constant") == [0, 250_000, 500_000, 750_000, 1_000_000]
    assert due_us(3.0, 4, "constant") == [0, 333_333, 666_666, 1_000_000]


def test_poisson_gaps_are_fixed_by_the_seed_and_average_one_over_the_rate():
    due = due_us(100.0, 20_000, "poisson")
    assert due == due_us(100.0, 20_000, "poisson", DEFAULT_SEED)
    assert due[0] == 0 and due == sorted(due)
    mean = due[-1] / (len(due) - 1)
    assert abs(mean - 10_000) < 300
    short = sum(1 for a, b in zip(due, due[1:]) if b - a < 10_000) / (len(due) - 1)
    assert abs(short - 0.632) < 0.02
    assert due_us(100.0, 20, "poisson", 7) != due[:20]


def test_the_rust_binaries_compute_the_same_due_times():
    # Pinned in crates/model/src/arrivals.rs's unit tests too.
    assert due_us(100.0, 6, "poisson") == [0, 13_717, 20_205, 27_186, 32_254, 42_829]
    assert due_us(7.0, 4, "constant") == [0, 142_857, 285_714, 428_571]


@pytest.mark.parametrize("rate, requests, flag", [
    (0.0, 1, "--arrivals"), (2e6, 1, "--arrivals"),
    (1.0, 0, "--requests"), (1.0, MAX_REQUESTS + 1, "--requests"),
])
def test_bad_settings_are_refused_in_the_flags_words(rate, requests, flag):
    with pytest.raises(Refused, match=flag):
        check(rate, requests, "poisson")


def test_a_rate_is_digits_with_an_optional_fraction():
    assert parse_rate("20") == 20.0 and parse_rate("2.5") == 2.5
    for bad in ["", "-1", "+2", "1e3", "2.", ".5", "inf", "NaN", " 3", "１"]:
        with pytest.raises(Refused) as refused:
            parse_rate(bad)
        assert refused.value.code == 2


def test_percentiles_are_the_rust_sides():
    # The cases of crates/model/src/latency.rs's unit test.
    from dbio.latency import percentiles

    assert percentiles(range(1, 1001)) == (500, 900, 990, 999, 1000)
    p = percentiles([10_000, 20_000, 1_000_000])
    assert (p[0], p[4]) == (20_015, 1_000_447)
    assert percentiles([]) == (0, 0, 0, 0, 0)
