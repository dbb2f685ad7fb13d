"""The run's results, its clock and its output, the same as the Rust
binaries' (crates/common/src/outcome/): the first row and row count per
query and a summary line, or with --json the report every tool reads."""

import sys
import threading
import time

from dbio import latency
from dbio.digest import digest, text_of


class Fetched:
    """One query's rows and when, on the run's clock (Output.now_us), it
    had its connection and was sent, its first row arrived (the end of the
    result for an empty one) and its last row did; and the server's id of
    the connection. The same points as the Rust binaries' QueryResult."""

    __slots__ = ("rows", "connected_us", "first_row_us", "finished_us", "connection_id", "server",
                 "moved_from")

    def __init__(self, rows, connected_us, first_row_us, finished_us, connection_id, server=0):
        self.rows, self.connected_us, self.first_row_us = rows, connected_us, first_row_us
        self.finished_us, self.connection_id, self.server = finished_us, connection_id, server
        self.moved_from = None


class Unfinished:
    """What stands for the result of a query cancelled at an open loop's
    drain deadline: its times are the run's end (as assemble's unfinished
    in Rust)."""

    def __init__(self, end_us):
        self.connected_us = self.first_row_us = self.finished_us = end_us
        self.connection_id = None
        self.server = None
        self.moved_from = None
        self.unfinished = True


class Output:
    """The results and the clock. The wall time stops when the last result
    is in, as in the Rust binaries (before pools are closed).

    Digests are computed only with --digests: pure-Python hashing costs
    about a microsecond per byte (seconds per report run), and under the GIL
    it would slow every other query of the run too, so a run that hashes
    has neither its wall time nor its timestamps worth reporting. Tests ask
    for digests; bench.sh's profile runs do not."""

    def __init__(self, name, workload, budget, work, digests=False, servers=(), open_loop=None):
        import resource

        self.name, self.workload, self.budget = name, workload, budget
        self.expected, self.digests = len(work), digests
        # An open loop's settings, and each query's (request, due_us).
        self.open_loop = open_loop
        per = open_loop["per_request"] if open_loop else 1
        self.due = {label: (i // per, due) for i, (label, _, due) in enumerate(work)}
        self.servers = list(servers)
        self.results = {}
        self.lock = threading.Lock()
        self.wall_us = None
        # The process's CPU time at the clock's two points, as in Rust: the
        # client's cost of the work itself, without start-up and output.
        self.usage = lambda: resource.getrusage(resource.RUSAGE_SELF)
        self.ru_done = None
        self.begin()

    def begin(self):
        """Starts the run's clock, and again after an open loop's pools
        were warmed (pools.warm): what the report times starts here."""
        self.ru_started = self.usage()
        # The most threads the interpreter ran, read as each result comes
        # in (while the others are in flight): no sampler thread, which
        # under the GIL would slow the run it measures.
        self.peak_threads = threading.active_count()
        self.started = time.perf_counter()

    def now_us(self):
        return int((time.perf_counter() - self.started) * 1e6)

    def add(self, label, submitted_us, fetched):
        rows = fetched.rows
        first = tuple(rows[0]) if rows else None
        hashed = digest(rows) if self.digests else None
        # Only the count, first row and timestamps are kept: holding every
        # row to the end would be memory no approach needs.
        fetched.rows = None
        with self.lock:
            self.peak_threads = max(self.peak_threads, threading.active_count())
            self.results[label] = (len(rows), first, hashed, submitted_us, fetched)
            if len(self.results) == self.expected:
                self.wall_us = self.now_us()
                self.ru_done = self.usage()

    def finish(self, drained):
        """After the body: a run drained at its deadline stops its clock
        now, and its queries without a result are unfinished. Raises when a
        query has no result otherwise."""
        missing = self.expected - len(self.results)
        if missing and not drained:
            raise RuntimeError(f"{missing} queries have no result")
        if self.wall_us is None:
            self.wall_us = self.now_us()
            self.ru_done = self.usage()
        for label in self.due:
            if label not in self.results:
                request, due = self.due[label]
                self.results[label] = (0, None, None, due, Unfinished(self.wall_us))

    def print(self, as_json=False):
        """Writes the output in one write."""
        sys.stdout.write(self.json() if as_json else self.text())

    def json(self):
        import json
        import resource

        ru = resource.getrusage(resource.RUSAGE_SELF)

        def query(label):
            rows, first, hashed, submitted, f = self.results[label]
            return {
                "label": label, "rows": rows, "digest": hashed,
                "first_row": None if first is None else [
                    None if v is None else text_of(v).decode("utf-8", "replace") for v in first],
                "submitted_us": submitted, "connected_us": f.connected_us,
                "first_row_us": f.first_row_us, "finished_us": f.finished_us,
                "connection_id": f.connection_id,
                **({"server": f.server} if len(self.servers) > 1 else {}),
                **({"moved_from": f.moved_from} if f.moved_from is not None else {}),
                **({"request": self.due[label][0], "due_us": self.due[label][1]}
                   if self.open_loop else {}),
                **({"unfinished": True} if getattr(f, "unfinished", False) else {}),
            }

        return json.dumps({
            "approach": self.name, "workload": self.workload,
            "budget": self.budget, "server": self.servers[0], "wall_us": self.wall_us,
            **({"servers": self.servers} if len(self.servers) > 1 else {}),
            # Counted by the Rust pool only; the budget test checks the
            # Python scripts on the server side.
            "peak_connections": None,
            "peak_threads": self.peak_threads,
            "queries": [query(label) for label in sorted(self.results)],
            "cpu_user_us": int(ru.ru_utime * 1e6), "cpu_sys_us": int(ru.ru_stime * 1e6),
            "max_rss_kib": ru.ru_maxrss,
            "run_cpu_user_us": int((self.ru_done.ru_utime - self.ru_started.ru_utime) * 1e6),
            "run_cpu_sys_us": int((self.ru_done.ru_stime - self.ru_started.ru_stime) * 1e6),
            **({"open_loop": {key: self.open_loop[key] for key in
                              ("rate", "requests", "process", "seed", "per_request",
                               "drain_timeout_s")}}
               if self.open_loop else {}),
        }, indent=2) + "\n"

    def text(self):
        # One write for the whole output, as the Rust binaries' one buffer:
        # print() per line is two system calls each with PYTHONUNBUFFERED.
        import resource

        ru = resource.getrusage(resource.RUSAGE_SELF)
        total, lines = 0, []
        for label in sorted(self.results):
            count, first = self.results[label][:2]
            total += count
            shown = "(" + ", ".join(str(v) for v in first) + ")" if first else "-"
            lines.append(f"{label}: {count:>5} rows  first {shown}")
        lines.append(f"{self.name}: {self.expected} queries, {total} rows in {self.wall_us / 1e6:.3f} s; "
                     f"budget {self.budget}; cpu {ru.ru_utime:.3f} s user + {ru.ru_stime:.3f} s sys; "
                     f"max rss {ru.ru_maxrss} KiB")
        if self.open_loop:
            lines.append(self.open_loop_line())
        moved = {}
        for result in self.results.values():
            if result[4].moved_from is not None:
                moved[result[4].moved_from] = moved.get(result[4].moved_from, 0) + 1
        for server in sorted(moved):
            lines.append(f"{self.name}: {moved[server]} queries moved from server {server + 1} "
                         f"({self.servers[server]}), lost during the run")
        return "\n".join(lines) + "\n"

    def open_loop_line(self):
        """The Rust binaries' open-loop summary line, word for word."""
        o = self.open_loop
        s = latency.summarize(o["requests"], [
            (*self.due[label], result[3], result[4].finished_us,
             getattr(result[4], "unfinished", False))
            for label, result in self.results.items()])
        rate = o["rate"]
        shown = f"{rate:.0f}" if rate == int(rate) else repr(rate)
        return (f"{self.name}: open loop: {o['requests']} requests of {o['per_request']} queries "
                f"offered at {shown}/s ({o['process']}), achieved {s['achieved_rate']:.2f}/s; "
                f"request latency p50/p90/p99/p99.9/max {latency.in_ms(s['request'])}; "
                f"query latency {latency.in_ms(s['query'])}; "
                f"dispatch lag p99 {s['lag'][2] / 1e3:.2f} ms"
                + (f"\n{self.name}: {s['unfinished']} of {o['requests']} requests unfinished at the "
                   f"drain timeout ({o['drain_timeout_s']} s after the last was due): cancelled on "
                   "the server, left out of the latencies" if s["unfinished"] else ""))
