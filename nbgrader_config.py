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
