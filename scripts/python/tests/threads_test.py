"""The thread count read from /proc/self/stat, checked against the
kernel's task list, and the peak kept."""

import os
import threading

from dbio import threads


def test_the_count_is_the_kernels_task_list():
    # Other threads may start or end meanwhile: a reading counts when the
    # task list is the same just before and after it.
    def agreed():
        before = len(os.listdir("/proc/self/task"))
        counted = threads.count()
        return before == len(os.listdir("/proc/self/task")) and counted == before

    assert any(agreed() for _ in range(100))


def test_the_peak_keeps_threads_that_have_ended():
    peak = threads.Peak()
    release = threading.Event()
    parked = [threading.Thread(target=release.wait) for _ in range(3)]
    for t in parked:
        t.start()
    seen = peak.peak()
    release.set()
    for t in parked:
        t.join()
    assert seen >= 5, "this thread, the sampler and three parked ones"
    assert peak.peak() >= seen, "kept once they have ended"
