"""User-facing errors of the assistant layer (the base class lives in the index layer below it)."""

from index.errors import LitassistError, LoadError, ModelError, PartialLoadError, StoreError


class SettingsError(LitassistError):
    """A setting has a value the product cannot use."""


class PromptError(LitassistError):
    """A prompt file is missing or was rendered without one of its variables."""


class EmptyIndexError(LitassistError):
    """A question was asked before anything was ingested."""


__all__ = [
    "LitassistError", "LoadError", "PartialLoadError", "ModelError", "StoreError",
    "SettingsError", "PromptError", "EmptyIndexError",
]
