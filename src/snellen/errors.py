"""The one exception family users see: a message that names the input and the fix."""

from __future__ import annotations


class SnellenError(Exception):
    """An error a user can act on. The command line prints it without a traceback."""


class InputError(SnellenError, ValueError):
    """Bad user input: the message names the file (and line) and says what to do."""
