"""Grade many submissions at once: one :class:`~autograder.grading.Grader` per worker process.

The plan is built once, before the workers fork, so each worker starts with it;
each worker owns its sandboxes and closes them on the way out.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import resource
import signal
import sys
import time
import traceback
from collections.abc import Iterable, Iterator

_GRADER = None
_PLAN = None
_ISOLATION = None


def grade_in_parallel(assignment: str, plan, isolation, jobs: int,
                      work: Iterable[tuple[str, object]]) -> Iterator[tuple[str, object, dict]]:
    """Grade ``(name, submission)`` pairs on ``jobs`` workers; yield ``(name, result, cost)`` as each finishes.

    ``cost`` is what the submission cost its worker (``seconds``, ``peak_mb``).
    Closing the iterator early (or Ctrl-C) stops the workers.

    Examples
    --------
    >>> for name, result, cost in grade_in_parallel("mcnemar", plan, level, 2, pairs):   # doctest: +SKIP
    ...     print(name, result.score, cost["seconds"])
    """
    global _PLAN, _ISOLATION
    _PLAN, _ISOLATION = plan, isolation
    pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_init_worker, initargs=(assignment,))
    try:
        yield from pool.imap_unordered(_grade_job, work)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _init_worker(assignment: str) -> None:
    global _GRADER
    from autograder.grading import Grader

    # Ctrl-C is the parent's to handle; a terminated worker closes its sandboxes on the way out.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    _GRADER = Grader(assignment, plan=_PLAN, isolation=_ISOLATION)
    multiprocessing.util.Finalize(_GRADER, _GRADER.close, exitpriority=10)


def _grade_job(job: tuple[str, object]) -> tuple[str, object, dict]:
    name, submission = job
    started = time.monotonic()
    try:
        result = _GRADER.grade_submission(submission)
    except Exception:  # a grader bug on one submission must not stop the run
        print(f"grader error for {name!r}:\n{traceback.format_exc()}", file=sys.stderr)
        result = _GRADER.ungraded("error", "The grader failed on this submission; your TA has the details.")
    # What this submission cost the grading process (its sandboxed children are bounded separately).
    cost = {"seconds": round(time.monotonic() - started, 2),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    return name, result, cost
