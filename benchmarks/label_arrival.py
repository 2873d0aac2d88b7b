#!/usr/bin/env python3
"""A year of monitoring with late labels, timed: traffic, scoring, label arrival, the dashboards.

Run from the repository root with the course environment::

    .venv/bin/python benchmarks/label_arrival.py [--days 366] [--repeat 3]

Simulates the course's traffic from 1 February 2024 for ``--days`` days, scores
it with v1.0, draws when every label becomes known (:mod:`phishlab.labels`),
computes the 7- and 30-day rates known on each day, and runs the label-free
output monitor on the whole period. Prints each step's time (best of
``--repeat``) and the total. Target: the whole year in under 10 s on 2 cores.
The baseline model is trained once beforehand (it is cached in the registry,
as in the book), and is not part of the figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time

os.environ.setdefault("PHISHLAB_ARTIFACTS", tempfile.mkdtemp(prefix="phishlab-bench-"))

from phishlab import course
from phishlab.labels import known_rolling_metrics, simulate_label_arrival
from phishlab.outputs import output_monitor
from phishlab.registry import ModelRegistry
from phishlab.scoring import score_batch


def one_year(model, days: int) -> dict[str, float]:
    """Seconds taken by each step of one simulated period."""
    start = course.PRODUCTION_START
    end = start + dt.timedelta(days=days - 1)
    times: dict[str, float] = {}

    def timed(name, function, *args, **kwargs):
        began = time.perf_counter()
        result = function(*args, **kwargs)
        times[name] = time.perf_counter() - began
        return result

    emails = timed("traffic", course.production_traffic, start, end)
    log = timed("scoring", score_batch, model, emails, "1.0")
    events = timed("label arrival", simulate_label_arrival, emails, log, course.LABEL_ARRIVAL,
                   random_state=course.COURSE_SEED)
    timed("known 7-day rates", known_rolling_metrics, events, 7)
    timed("known 30-day rates", known_rolling_metrics, events, 30)
    timed("output monitor", output_monitor, log, ("2024-06-01", "2024-06-30"),
          "2024-07-07", f"{end:%Y-%m-%d}", random_state=course.COURSE_SEED)
    times["emails"] = len(emails)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=366)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    model = course.ensure_baseline(ModelRegistry(course.artifact_dir() / "models"))
    runs = [one_year(model, args.days) for _ in range(args.repeat)]
    steps = [name for name in runs[0] if name != "emails"]
    print(f"{args.days} days, {int(runs[0]['emails']):,} emails, {os.cpu_count()} CPU(s); best of {args.repeat}:")
    for name in steps:
        print(f"  {name:<20} {min(run[name] for run in runs):6.2f} s")
    totals = [sum(run[name] for name in steps) for run in runs]
    print(f"  {'total':<20} {min(totals):6.2f} s  (target: under 10 s)")


if __name__ == "__main__":
    main()
