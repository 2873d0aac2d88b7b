"""``python -m autograder``: see :mod:`autograder.cli`."""

import os
import sys
from pathlib import Path

# ``-m`` puts the working folder first on sys.path; a module planted there (a
# matplotlib.py next to the submissions, say) must never be imported by the
# grading process. Only the course folder, which holds this package, stays.
_course = str(Path(__file__).resolve().parents[1])
sys.path[:] = [_course] + [p for p in sys.path if p not in ("", ".", os.getcwd(), _course)]

from autograder.cli import main  # noqa: E402

sys.exit(main())
