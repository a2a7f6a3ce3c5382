"""User-facing errors of the assistant layer (the base class lives in the index layer below it)."""

from litassist.index.errors import LitassistError, LoadError, ModelError, PartialLoadError, StoreError


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


class FilterError(LitassistError):
    """The filters cannot be used as given (a reversed year range)."""


class SynonymFileError(LitassistError):
    """The configured synonym file cannot be read."""


class MemberError(LitassistError):
    """One member of a zip cannot be unpacked; the message names why, never a path on this machine."""


class DialogueFileError(LitassistError):
    """The dialogue file cannot be used."""


class DatasetError(LitassistError):
    """The evaluation folder is not a usable BEIR dataset."""


def check_question(question: str, limit: int | None) -> None:
    """QuestionTooLongError when the question is longer than `limit` characters (None: no limit)."""
    if limit is not None and len(question) > limit:
        raise QuestionTooLongError(len(question), limit)


__all__ = [
    "DatasetError",
    "DialogueFileError",
    "EmptyIndexError",
    "FetchError",
    "FilterError",
    "LitassistError",
    "LoadError",
    "MemberError",
    "ModelError",
    "PartialLoadError",
    "PromptError",
    "QuestionTooLongError",
    "SettingsError",
    "StoreError",
    "SynonymFileError",
    "check_question",
]
