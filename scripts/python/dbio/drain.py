"""An open loop's end, as crates/common/src/outcome/drain.rs: the run ends
when its last request does, or at its drain deadline (the last request's
due time and DBIO_DRAIN_TIMEOUT). Then what still runs is cancelled on the
server (interrupt.cancel), and every query without a result is reported as
unfinished: counted, never dropped, never an error of the run."""

import threading
import time

from dbio import interrupt

DRAINED = threading.Event()


def drained():
    """Whether the run passed its drain deadline: a query failing from then
    on was cancelled by it, not a failure of the run."""
    return DRAINED.is_set()


def arm(out, servers, open_loop, last_due_us):
    """Watches the deadline on `out`'s clock (read again after each wait:
    warming the pools starts it again); returns the function that stops the
    watch (the last result is in)."""
    stop = threading.Event()
    deadline = last_due_us / 1e6 + open_loop["drain_timeout_s"]

    def watch():
        while (left := deadline - (time.perf_counter() - out.started)) > 0:
            if stop.wait(left):
                return
        DRAINED.set()
        try:
            interrupt.cancel(servers)
        except Exception:  # noqa: BLE001 - best effort, as in Rust
            pass

    threading.Thread(target=watch, name="dbio-drain", daemon=True).start()
    return stop.set


def tolerated(error):
    """Re-raises `error` unless the drain deadline explains it."""
    if not drained():
        raise error
