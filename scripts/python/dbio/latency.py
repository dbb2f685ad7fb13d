"""An open-loop run's numbers, as crates/model/src/latency.rs computes
them: each request's and each query's latency from the due time to the last
row, the dispatch lag (submitted - due) and the achieved rate. Rust takes
percentiles from an HdrHistogram at 3 significant digits; here the list is
kept, the nearest rank taken, and the value reported as the highest one
equivalent to it at that resolution: the same number from the same
samples."""

import math


def highest_equivalent(value):
    """HdrHistogram's highest value equivalent to `value` (3 significant
    digits, lowest trackable 1: sub-buckets of 2048)."""
    shift = max((value | 2047).bit_length() - 11, 0)
    return ((value >> shift) << shift) + (1 << shift) - 1


def percentiles(samples):
    """(p50, p90, p99, p99.9, max) of `samples`, all 0 for none."""
    ordered = sorted(samples)
    if not ordered:
        return (0, 0, 0, 0, 0)

    def at(quantile):
        rank = max(1, math.ceil(quantile * len(ordered)))
        return highest_equivalent(ordered[rank - 1])

    return (at(0.5), at(0.9), at(0.99), at(0.999), highest_equivalent(ordered[-1]))


def in_ms(values):
    return " / ".join(f"{v / 1e3:.1f}" for v in values) + " ms"


def summarize(requests, queries):
    """`queries`: (request, due_us, submitted_us, finished_us, unfinished)
    of every query. Returns the achieved rate, request and query latency and
    dispatch lag percentiles, and how many requests were unfinished (left
    out of the rest)."""
    ends, dues, cut = {}, {}, set()
    for request, due, _, finished, unfinished in queries:
        ends[request] = max(ends.get(request, 0), finished)
        dues[request] = due
        if unfinished:
            cut.add(request)
    for request in cut:
        del ends[request]
    done = [q for q in queries if not q[4]]
    last = max(ends.values(), default=0)
    return {
        "achieved_rate": 0.0 if last == 0 else len(ends) / (last / 1e6),
        "request": percentiles(max(0, ends[r] - dues[r]) for r in ends),
        "query": percentiles(max(0, f - d) for _, d, _, f, _ in done),
        "lag": percentiles(max(0, s - d) for _, d, s, _, _ in done),
        "requests": requests,
        "unfinished": len(cut),
    }
