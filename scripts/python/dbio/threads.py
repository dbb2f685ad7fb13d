"""The most threads the process runs, sampled ten times a second from
/proc/self/stat, as the Rust binaries' memory watchdog samples them: a
burst shorter than a period can pass unseen."""

import threading

PERIOD_S = 0.1


class Peak:
    """Samples on a daemon thread of its own (counted too, as the Rust
    watchdog's is) from its start until the process ends."""

    def __init__(self):
        self.seen = 0
        thread = threading.Thread(target=self._watch, name="dbio-threads", daemon=True)
        thread.start()

    def _watch(self):
        stop = threading.Event()
        while True:
            self.seen = max(self.seen, count() or 0)
            stop.wait(PERIOD_S)

    def peak(self):
        """The most seen, now included; None where /proc cannot tell."""
        self.seen = max(self.seen, count() or 0)
        return self.seen or None


def count():
    """The process's threads: /proc/self/stat's 20th field, the 18th after
    the command name (which may hold spaces and parentheses)."""
    try:
        with open("/proc/self/stat", "rb") as stat:
            text = stat.read()
    except OSError:
        return None
    fields = text.rsplit(b")", 1)[-1].split()
    try:
        return int(fields[17])
    except (IndexError, ValueError):
        return None
