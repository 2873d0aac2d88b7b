"""nbgrader configuration: the repository root is the course directory.

Instructor sources (with reference solutions and hidden tests) live in
``solutions/<assignment>/``; ``nbgrader generate_assignment <assignment>``
writes the student version to ``exercises/<assignment>/``.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "phishing-detector-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Students see "# YOUR CODE HERE" followed by this line in every answer cell.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# A grading run must finish: a notebook cell that loops forever is stopped.
c.ExecutePreprocessor.timeout = 120

# The graders (autograder/, next to this file) must be importable by nbgrader
# itself and by the kernels it starts (the hidden test cells call them).
_course_root = str(Path(__file__).resolve().parent)
sys.path.insert(0, _course_root)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_course_root, os.environ.get("PYTHONPATH")) if p)

# `nbgrader autograde` never runs a submission in a kernel: its Execute step is
# replaced by the course's sandboxed grader, which writes each hidden test
# cell's output (feedback and points) from the trusted side. So the notebook's
# own code cannot award itself points. See autograder/nbgrader_hook.py.
from nbgrader.converters.autograde import Autograde  # noqa: E402
from nbgrader.preprocessors import Execute  # noqa: E402

from autograder.nbgrader_hook import SandboxedAutograde  # noqa: E402

c.Autograde.autograde_preprocessors = [
    SandboxedAutograde if step is Execute else step
    for step in Autograde.class_traits()["autograde_preprocessors"].default()
]
