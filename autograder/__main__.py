"""``python -m autograder``: see :mod:`autograder.cli`."""

import os
import sys
from pathlib import Path

# ``-m`` puts the working folder first on sys.path, so a module planted there (a
# matplotlib.py next to the submissions, say) would be imported by the grading
# process. The working folder goes; the course folder, which holds this package,
# goes last, so that nothing in it can shadow the standard library or an
# installed package.
_course = str(Path(__file__).resolve().parents[1])
sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd(), _course)] + [_course]

from autograder.cli import main  # noqa: E402

sys.exit(main())
