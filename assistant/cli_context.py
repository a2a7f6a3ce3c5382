"""What every `litassist` command is handed: the options, settings and components built on first use."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `--help`, `--version` and usage errors import click alone
    from litassist.assistant.factory import Components
    from litassist.assistant.settings import Settings

ServeUI = Callable[["Settings", Callable[[str], None]], None]  # the UI layer's `serve(settings, announce)`


class Context:
    """What every command needs: settings and components, each built on first use (a usage error needs neither)."""

    def __init__(self, home: Path | None, chroma_url: str | None = None, serve_ui: ServeUI | None = None) -> None:
        self.home, self.chroma_url = home, chroma_url
        self.serve_ui = serve_ui  # the UI layer's launcher, passed in by `litassist.main`: never imported here

    @cached_property
    def settings(self) -> Settings:
        """The settings, with --home and --chroma-url applied."""
        from litassist.assistant.settings import load_settings

        settings = load_settings(**({"home": self.home} if self.home else {}))
        if self.chroma_url:  # the option beats LITASSIST_STORE__CHROMA_URL; the other store settings stay as set
            store = settings.store.model_copy(update={"chroma_url": self.chroma_url})
            settings = settings.model_copy(update={"store": store})
        return settings

    @cached_property
    def components(self) -> Components:
        """Encoder, store and retriever from the settings."""
        from litassist.assistant.factory import Components

        return Components(self.settings)
