"""Grading tools for the course's nbgrader assignments (for teaching assistants).

Nothing here is imported by the book or shipped to students: the reference
solutions are read from the instructor notebooks in ``solutions/``, and each
assignment's checks live in its folder under ``autograder/assignments/``.
"""
