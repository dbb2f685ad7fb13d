"""The workload (DBIO_WORKLOAD: report, point or sleep, DBIO_COUNT,
DBIO_SLEEP_MS, --queries FILE), checked before anything connects and built
into the query list exactly as crates/model/src/workload.rs and queries.rs
build it: the same labels, the same SQL, the same point keys."""

import os
from pathlib import Path

from dbio import splitmix
from dbio.errors import Refused
from dbio.settings import MAX_COUNT, MAX_SLEEP_MS, U32_MAX, whole
from dbio.statements import dashboard, second_statement

TEMPLATE = Path(__file__).resolve().parents[3] / "queries" / "report.sql"
# The largest dashboard and template files (crates/model/src/queries.rs).
MAX_FILE_BYTES = 1 << 20
MAX_TEMPLATE_BYTES = 1 << 30
WORKLOADS = ("report", "point", "sleep")
# The open loop's settings (crates/model/src/workload.rs), refused here.
OPEN_LOOP = ("DBIO_ARRIVALS", "DBIO_REQUESTS", "DBIO_ARRIVAL_PROCESS", "DBIO_ARRIVAL_SEED",
             "DBIO_FANOUT")


def plan(path=None):
    """The checked workload: a dict with `workload` and what build() needs
    (`template`, `dashboard`, or `count` and `sleep_ms`). Raises Refused as
    the Rust binaries' validation refuses."""
    workload = os.environ.get("DBIO_WORKLOAD", "report")
    for name in OPEN_LOOP:
        if os.environ.get(name) is not None:
            raise Refused(f"{name} is an open-loop setting, and the Python scripts run one batch "
                          "only so far (the Rust binaries run --arrivals): unset it")
    if workload not in WORKLOADS:
        raise Refused(f"DBIO_WORKLOAD must be report, point or sleep, not {workload!r}")
    # Parsed whatever the workload, as clap parses every variable.
    count = whole("DBIO_COUNT", None, "--count", 0, U32_MAX)
    ms = whole("DBIO_SLEEP_MS", None, "--sleep-ms", 0, U32_MAX)
    if ms is not None and workload != "sleep":
        raise Refused("--sleep-ms applies to --workload sleep (it would be ignored)")
    if path and workload != "report":
        raise Refused("--queries is a template for the report workload")
    if workload == "report":
        if count is not None:
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
    """The query list [(label, sql), ...]; the point workload draws its
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
