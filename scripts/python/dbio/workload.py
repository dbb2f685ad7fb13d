"""The workload (DBIO_WORKLOAD: report, point or sleep, DBIO_COUNT,
DBIO_SLEEP_MS, --queries FILE), checked before anything connects and built
into the query list exactly as crates/model/src/workload.rs and queries.rs
build it: the same labels, the same SQL, the same point keys."""

import os
from pathlib import Path

from dbio import arrivals, splitmix
from dbio.errors import Refused
from dbio.settings import MAX_COUNT, MAX_SLEEP_MS, U32_MAX, U64_MAX, whole
from dbio.statements import dashboard, second_statement

TEMPLATE = Path(__file__).resolve().parents[3] / "queries" / "report.sql"
# The largest dashboard and template files (crates/model/src/queries.rs).
MAX_FILE_BYTES = 1 << 20
MAX_TEMPLATE_BYTES = 1 << 30
WORKLOADS = ("report", "point", "sleep")
# The requests of an open-loop run without DBIO_REQUESTS, and its drain
# timeout's default and bound, in seconds.
DEFAULT_REQUESTS = 100
DEFAULT_DRAIN_TIMEOUT = 60
MAX_DRAIN_TIMEOUT = 86_400


def plan(path=None):
    """The checked workload: a dict with `workload` and what build() needs
    (`template`, `dashboard`, or `count` and `sleep_ms`). Raises Refused as
    the Rust binaries' validation refuses."""
    workload = os.environ.get("DBIO_WORKLOAD", "report")
    if workload not in WORKLOADS:
        raise Refused(f"DBIO_WORKLOAD must be report, point or sleep, not {workload!r}")
    # Parsed whatever the workload, as clap parses every variable.
    count = whole("DBIO_COUNT", None, "--count", 0, U32_MAX)
    ms = whole("DBIO_SLEEP_MS", None, "--sleep-ms", 0, U32_MAX)
    open_loop = open_settings(workload, count)
    if open_loop is None:
        return closed_plan(workload, count, ms, path)
    too_many = (f"--requests × the queries of a request must be at most {MAX_COUNT} (every query "
                "is built before the run)")
    requests, fanout = open_loop["requests"], open_loop["fanout"]
    if workload != "report" and requests * fanout > MAX_COUNT:
        raise Refused(too_many)
    planned = closed_plan(workload, requests * fanout, ms, path, open_count=True)
    if workload == "report":
        per_request = len(planned["dashboard"]) if "dashboard" in planned else 26
        if requests * per_request > MAX_COUNT:
            raise Refused(too_many)
        open_loop["per_request"] = per_request
    else:
        open_loop["per_request"] = fanout
    return {**planned, "open": open_loop}


def open_settings(workload, count):
    """The open loop's settings (DBIO_ARRIVALS and the rest), checked as
    WorkloadArgs::open_loop checks them; None without DBIO_ARRIVALS, when
    every other open-loop setting is refused (it would be ignored)."""
    rate_text = os.environ.get("DBIO_ARRIVALS")
    rate = None if rate_text is None else arrivals.parse_rate(rate_text)
    requests = whole("DBIO_REQUESTS", None, "--requests", 0, U32_MAX)
    process = os.environ.get("DBIO_ARRIVAL_PROCESS")
    if process is not None and process not in arrivals.PROCESSES:
        raise Refused(f"invalid value {process!r} for '--arrival-process <PROCESS>' "
                      "(DBIO_ARRIVAL_PROCESS): constant or poisson", code=2)
    seed = whole("DBIO_ARRIVAL_SEED", None, "--arrival-seed", 0, U64_MAX, bits_max=U64_MAX)
    fanout = whole("DBIO_FANOUT", None, "--fanout", 0, U32_MAX)
    drain = whole("DBIO_DRAIN_TIMEOUT", None, "--drain-timeout", 0, U32_MAX)
    if rate is None:
        for value, flag in ((requests, "--requests"), (process, "--arrival-process"),
                            (seed, "--arrival-seed"), (fanout, "--fanout"),
                            (drain, "--drain-timeout")):
            if value is not None:
                raise Refused(f"{flag} applies to an open-loop run, with --arrivals (it would be "
                              "ignored)")
        return None
    if count is not None:
        raise Refused("--count is the closed loop's: with --arrivals, --requests and --fanout say "
                      "how many queries run")
    if workload == "report" and fanout is not None:
        raise Refused("--fanout applies to --workload point and sleep; a report request is the "
                      "whole report")
    if fanout == 0:
        raise Refused("--fanout must be at least 1")
    if drain == 0:
        raise Refused("--drain-timeout must be at least 1")
    if drain is not None and drain > MAX_DRAIN_TIMEOUT:
        raise Refused(f"--drain-timeout must be at most {MAX_DRAIN_TIMEOUT} (a day)")
    requests = DEFAULT_REQUESTS if requests is None else requests
    process = "poisson" if process is None else process
    arrivals.check(rate, requests, process)
    return {"rate": rate, "requests": requests, "process": process,
            "seed": arrivals.DEFAULT_SEED if seed is None else seed,
            "fanout": 1 if fanout is None else fanout,
            "drain_timeout_s": DEFAULT_DRAIN_TIMEOUT if drain is None else drain}


def closed_plan(workload, count, ms, path, open_count=False):
    """One batch's plan; with `open_count`, `count` is an open loop's number
    of point or sleep queries (requests × fanout), already checked."""
    if ms is not None and workload != "sleep":
        raise Refused("--sleep-ms applies to --workload sleep (it would be ignored)")
    if path and workload != "report":
        raise Refused("--queries is a template for the report workload")
    if workload == "report":
        if count is not None and not open_count:
            raise Refused("DBIO_COUNT applies to the point and sleep workloads; the report is 26 queries")
        return {"workload": workload, **read_queries(path)}
    n = count if count is not None else (10000 if workload == "point" else 100)
    if n < 1:
        raise Refused("--count must be at least 1")
    if n > MAX_COUNT:
        raise Refused(f"--count must be at most {MAX_COUNT} (every query is built before the run)")
    if workload == "sleep":
        ms = 50 if ms is None else ms
        if ms < 1:
            raise Refused("--sleep-ms must be at least 1")
        if ms > MAX_SLEEP_MS:
            raise Refused(f"--sleep-ms must be at most {MAX_SLEEP_MS} (an hour)")
    return {"workload": workload, "count": n, "sleep_ms": ms}


def read_queries(path):
    """The report's queries: {"template": ...} from a file with `{}` (the
    blog's report.sql by default), else {"dashboard": [(label, sql), ...]}."""
    try:
        with open(path or TEMPLATE, "rb") as f:
            data = f.read(MAX_TEMPLATE_BYTES + 1)
    except OSError as e:
        raise Refused(f"cannot read the query file {path}: {e.strerror}") from None
    if len(data) > MAX_TEMPLATE_BYTES:
        raise Refused(f"{path} is larger than {MAX_TEMPLATE_BYTES} bytes: no server accepts a "
                      "statement that large")
    try:
        text = data.decode()
    except UnicodeDecodeError as e:
        raise Refused(f"cannot read the query file {path}: {e}") from None
    if "{}" not in text:
        if len(data) > MAX_FILE_BYTES:
            raise Refused(f"{path} is larger than {MAX_FILE_BYTES} bytes: a dashboard holds a "
                          "page's statements")
        return {"dashboard": dashboard(text)}
    template = text.rstrip()
    at = second_statement(template)
    if at is not None:
        raise Refused(f"the query template holds more than one statement (a second one starts at "
                      f"byte {at}); a template is one query, and the drivers would read its "
                      "results differently")
    return {"template": template}


def reads_tables(planned):
    """Whether the workload reads the dataset (sleeps read no table)."""
    return planned["workload"] != "sleep"


def build(planned, key_range=None):
    """The query list [(label, sql, due_us), ...]: in one batch every query
    is due at 0; an open loop's are its requests', labelled `r007/A`
    (Work::open)."""
    once = batch(planned, key_range)
    open_loop = planned.get("open")
    if open_loop is None:
        return [(label, sql, 0) for label, sql in once]
    requests, per = open_loop["requests"], open_loop["per_request"]
    if planned["workload"] == "report":
        once = once * requests
    due = arrivals.due_us(open_loop["rate"], requests, open_loop["process"], open_loop["seed"])
    width = len(str(requests))
    return [(f"r{i // per + 1:0{width}}/{label}", sql, due[i // per])
            for i, (label, sql) in enumerate(once)]


def batch(planned, key_range=None):
    """One batch's list [(label, sql), ...]; the point workload draws its
    keys from `key_range` (lo, hi), the probe's."""
    workload = planned["workload"]
    if "dashboard" in planned:
        return list(planned["dashboard"])
    if workload == "report":
        template = planned["template"]
        return [(letter, template.replace("{}", letter))
                for letter in map(chr, range(ord("A"), ord("Z") + 1))]
    n, ms = planned["count"], planned["sleep_ms"]
    width = len(str(n))
    if workload == "sleep":
        return [(f"s{i + 1:0{width}}",
                 f"SELECT SLEEP({ms // 1000}.{ms % 1000:03}) AS slept, 's{i + 1:0{width}}' AS q")
                for i in range(n)]
    lo, hi = key_range
    span = hi - lo + 1
    draws = splitmix.sequence(splitmix.POINT_SEED)
    return [(f"p{i + 1:0{width}}",
             "SELECT emp_no, birth_date, first_name, last_name, gender, hire_date "
             f"FROM employees WHERE emp_no = {lo + next(draws) % span}")
            for i in range(n)]
