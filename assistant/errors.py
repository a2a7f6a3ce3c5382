"""User-facing errors of the assistant layer (the base class lives in the index layer below it)."""

from index.errors import LitassistError, LoadError, ModelError, PartialLoadError, StoreError


class SettingsError(LitassistError):
    """A setting has a value the product cannot use."""


class PromptError(LitassistError):
    """A prompt file is missing or was rendered without one of its variables."""


class EmptyIndexError(LitassistError):
    """A question was asked before anything was ingested."""


class FetchError(LitassistError):
    """`litassist fetch` could not get records from NCBI (no network, a refused request, an answer it cannot read)."""


class QuestionTooLongError(LitassistError):
    """A question over the length limit (a pasted document is not a question, and would stall everyone's answers)."""

    def __init__(self, length: int, limit: int) -> None:
        self.length, self.limit = length, limit
        super().__init__(f"the question is {length:,} characters long, over the limit of {limit:,}: ask about one "
                         "thing at a time (LITASSIST_ANSWER__MAX_QUESTION_CHARS sets the limit)")


def check_question(question: str, limit: int | None) -> None:
    """QuestionTooLongError when the question is longer than `limit` characters (None: no limit)."""
    if limit is not None and len(question) > limit:
        raise QuestionTooLongError(len(question), limit)


__all__ = [
    "LitassistError", "LoadError", "PartialLoadError", "ModelError", "StoreError",
    "SettingsError", "PromptError", "EmptyIndexError", "FetchError", "QuestionTooLongError", "check_question",
]
