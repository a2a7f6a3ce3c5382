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


class UnknownSourceError(LitassistError):
    """Ids that name no indexed source (for a deletion) or no deleted one (for a restore)."""


def first_line(exc: BaseException, named: bool = True, limit: int | None = None) -> str:
    """One line for an error a library raised: 'TypeName: first line of its message' (or the message alone when
    not `named`), cut to `limit` characters; the type name when the message is empty."""
    lines = str(exc).strip().splitlines()
    message = lines[0][:limit] if lines else ""
    if not message:
        return type(exc).__name__
    return f"{type(exc).__name__}: {message}" if named else message
