"""Errors of the org domain."""

from zhiyi.core.errors import NotFound


class CampusNotFound(NotFound):
    code, message = "campus_not_found", "No such campus."
