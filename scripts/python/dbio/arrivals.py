"""Open loop: when each request of a run is due, exactly as
crates/model/src/arrivals.rs computes it: the first at 0, then 1/rate
apart (constant) or exponential gaps drawn from the project's SplitMix64
(poisson); whole microseconds, truncated. The same float operations in the
same order, so every approach in both languages gets the same due times."""

import math
import re

from dbio import splitmix
from dbio.errors import Refused

DEFAULT_SEED = 0xA7717A15
MAX_REQUESTS = 1_000_000
MAX_RATE = 1e6
PROCESSES = ("constant", "poisson")


def parse_rate(text):
    """A rate as the Rust side takes it: digits with an optional fraction."""
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text, flags=re.ASCII):
        raise Refused(f"invalid value {text!r} for --arrivals: requests per second, as digits "
                      "with an optional fraction (20, 2.5)", code=2)
    return float(text)


def check(rate, requests, process):
    """Raises Refused, in the flags' words, as Arrivals::new does."""
    if not (0.0 < rate <= MAX_RATE):
        raise Refused(f"--arrivals must be more than 0 and at most {MAX_RATE:.0f} requests per second")
    if requests == 0:
        raise Refused("--requests must be at least 1")
    if requests > MAX_REQUESTS:
        raise Refused(f"--requests must be at most {MAX_REQUESTS} (every request is built before the run)")
    if process not in PROCESSES:
        raise Refused(f"--arrival-process must be constant or poisson, not {process!r}")


def due_us(rate, requests, process, seed=DEFAULT_SEED):
    """Each request's due time, in microseconds from the run's start."""
    if process == "constant":
        return [int(i / rate * 1e6) for i in range(requests)]
    draws = splitmix.sequence(seed)
    t, due = 0.0, []
    for i in range(requests):
        if i > 0:
            u = ((next(draws) >> 11) + 1) / float(1 << 53)
            t += -math.log(u) / rate
        due.append(int(t * 1e6))
    return due
