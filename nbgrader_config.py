"""nbgrader configuration: the repository root is the course directory.

Instructor sources (with reference solutions and hidden tests) live in
``solutions/<assignment>/``; ``nbgrader generate_assignment <assignment>``
writes the student version to ``exercises/<assignment>/``.
"""

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "phishing-detector-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Students see "# YOUR CODE HERE" followed by this line in every answer cell.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# A grading run must finish: a notebook cell that loops forever is stopped.
c.ExecutePreprocessor.timeout = 120

# The hidden test cells call the course's graders (autograder/, next to this
# file): make them importable in the kernels nbgrader starts.
import os  # noqa: E402
from pathlib import Path  # noqa: E402

_course_root = str(Path(__file__).resolve().parent)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_course_root, os.environ.get("PYTHONPATH")) if p)
