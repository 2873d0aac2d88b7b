"""Loads the graders' pytest plugin for ``pytest autograder/assignments/<id> --submission NOTEBOOK``."""

from autograder.pytest_plugin import *  # noqa: F403 -- pytest finds hooks and fixtures by name here
