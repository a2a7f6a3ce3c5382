"""Errors whose message is shown to users as one line."""


class LitassistError(Exception):
    """Base error: its message is meant for the user, not a traceback."""


class LoadError(LitassistError):
    """A file could not be read into records."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class StoreError(LitassistError):
    """The index on disk is missing, unreadable or inconsistent."""


class ModelError(LitassistError):
    """The embedding model could not be loaded."""


class PartialLoadError(LoadError):
    """Some entries of a multi-record file were broken; the good ones are in `records`."""

    def __init__(self, path: object, reason: str, records: list) -> None:
        super().__init__(path, reason)
        self.records = records


def describe(exc: BaseException) -> str:
    """'TypeName: first line of the message' for an unexpected error."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
