"""dbio.report: the peak threads, read as each result comes in."""

import json
import threading

from dbio.report import Fetched, Output


def test_the_peak_counts_the_threads_in_flight_when_a_result_comes_in():
    out = Output("py_test_mt", "sleep", 5, [("A", "DO SLEEP(0)", 0)], servers=["s"])
    release = threading.Event()
    parked = [threading.Thread(target=release.wait) for _ in range(3)]
    for t in parked:
        t.start()
    out.add("A", 0, Fetched([(1,)], 1, 2, 3, 7))
    release.set()
    for t in parked:
        t.join()
    out.finish(False)
    report = json.loads(out.json())
    assert report["peak_threads"] >= 4, "this thread and three in flight"
    assert threading.active_count() < report["peak_threads"], "kept once they have ended"
