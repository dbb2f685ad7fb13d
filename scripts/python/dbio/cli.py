"""The entry point every script calls: the arguments, the checks before
any work, the probe, then the approach's body on the clock, and one
`error:` line for any failure (never a traceback, never a password)."""

import os
import re
import sys

from dbio import drain, interrupt
from dbio.errors import Refused
from dbio.probe import examine
from dbio.report import Output
from dbio.routing import error_code
from dbio.settings import READ_ONLY_SESSION, flag, settings, shown_url
from dbio.workload import build, plan

# What the SQLAlchemy-based scripts import, before the run's clock starts.
SYNC_DRIVERS = ("sqlalchemy", "sqlalchemy.engine", "pymysql", "pymysql.cursors")
USAGE = ("--json, --digests, --queries FILE, --allow-writes; settings come from DATABASE_URL "
         "and DBIO_CONNECTIONS")


def fail(message, code=1):
    """One line on stderr, the password of any URL in it redacted, and exit."""
    message = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", str(message)).replace("\n", " ")
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def arguments(args):
    """The command line: (as_json, digests, queries file, allow_writes)."""
    as_json, digests, queries = False, False, None
    allow_writes = flag("DBIO_ALLOW_WRITES")
    args = list(args)
    while args:
        arg = args.pop(0)
        if arg == "--json":
            as_json = True
        elif arg == "--digests":
            digests = True
        elif arg == "--queries" and args:
            queries = args.pop(0)
        elif arg == "--allow-writes":
            allow_writes = True
        else:
            raise Refused(f"unknown argument {arg} ({USAGE})")
    return as_json, digests, queries, allow_writes


def main(name, body, drivers=SYNC_DRIVERS):
    """Runs body(cfg, queries, output) and prints (`--json`: the report as
    JSON, like the Rust binaries); any failure is one line. The driver
    modules are imported first: as the Rust binaries' set-up, importing is
    not part of the run's wall time (hyperfine's time includes it)."""
    try:
        as_json, digests, queries, allow_writes = arguments(sys.argv[1:])
        cfg = settings()
        planned = plan(queries)
        if allow_writes and "dashboard" not in planned:
            raise Refused("--allow-writes applies to a dashboard (--queries FILE with statements "
                          "of its own, no `{}`)")
    except Refused as e:
        fail(e, e.code)
    # A dashboard's sessions are read-only: the server refuses its writes.
    read_only = "dashboard" in planned and not allow_writes
    cfg["init_command"] = READ_ONLY_SESSION if read_only else None
    interrupt.cancel_on_signals(cfg["servers"])
    try:
        work = build(planned, examine(cfg, planned))
    except Refused as e:
        fail(e, e.code)
    except Exception as e:  # noqa: BLE001 - the probe: one clear line
        fail(f"{type(e).__name__}: {e}")
    import importlib

    for module in drivers:
        importlib.import_module(module)
    out = Output(name, planned["workload"], cfg["budget"], work, digests=digests,
                 servers=[shown_url(server) for server in cfg["servers"]],
                 open_loop=planned.get("open"))
    open_loop = planned.get("open")
    disarm = (drain.arm(out, cfg["servers"], open_loop, max(due for _, _, due in work))
              if open_loop else None)
    try:
        body(cfg, work, out)
        if disarm:
            disarm()
        out.finish(drain.drained())
    except Exception as e:  # noqa: BLE001 - the point is one clear line
        hint = ""
        if read_only and error_code(e) == 1792:
            hint = " (a dashboard runs on read-only sessions: --allow-writes lets its statements write)"
        fail(f"{type(e).__name__}: {e}{hint}")
    try:
        out.print(as_json)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head -1`): quiet, as for any filter.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
