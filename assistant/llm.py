"""Chat-model configuration: the LITASSIST_LLM spec string, the optional client classes, token streaming."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.callbacks import BaseCallbackHandler

from litassist.index import errors

from litassist.assistant.errors import SettingsError

Provider = Literal["openai", "openai-compatible", "ollama"]
ACCEPTED = ("openai:<model> (e.g. openai:gpt-4o-mini), openai-compatible:<model>@<http(s) URL> "
            "(e.g. openai-compatible:llama3@http://localhost:8000/v1), ollama:<model>[@<URL>] "
            "(e.g. ollama:llama3.1), or 'extractive' for no LLM")
OFF = {"", "none", "extractive"}
# provider -> (module, class, pip package): imported only when that provider is configured.
CLIENTS: dict[str, tuple[str, str, str]] = {
    "openai": ("langchain_openai", "ChatOpenAI", "langchain-openai"),
    "openai-compatible": ("langchain_openai", "ChatOpenAI", "langchain-openai"),
    "ollama": ("langchain_ollama", "ChatOllama", "langchain-ollama"),
}
# OpenAI-compatible servers (vLLM, llama.cpp, LM Studio) often need no key, but the client insists on one;
# a placeholder also keeps a real OPENAI_API_KEY from being sent to a third-party endpoint.
NO_KEY = "not-needed"


@dataclass(frozen=True)
class LlmSpec:
    """A parsed LITASSIST_LLM value: which client, which model, which server."""

    provider: Provider
    model: str
    base_url: str | None = None

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}" + (f"@{self.base_url}" if self.base_url else "")


def invalid(spec: str, why: str) -> SettingsError:
    """The error for a spec the product cannot use, naming the accepted forms."""
    return SettingsError(f"invalid LLM '{spec}': {why}; use {ACCEPTED}")


def split_url(spec: str, rest: str) -> tuple[str, str | None]:
    """'model@http://host/v1' -> ('model', 'http://host/v1'); no '@' means no URL."""
    model, at, url = rest.rpartition("@")
    if not at:
        return rest.strip(), None
    if not url.startswith(("http://", "https://")):
        raise invalid(spec, f"'{url}' is not an http(s) URL")
    return model.strip(), url.rstrip("/")


def parse_spec(spec: str | None) -> LlmSpec | None:
    """Parse 'provider:model[@url]'; None (or 'extractive') means answer without an LLM."""
    if spec is None or spec.strip().lower() in OFF:
        return None
    provider, colon, rest = spec.strip().partition(":")  # only the first ':' — 'ollama:llama3.1:8b' is fine
    provider = provider.lower()
    if not colon or provider not in CLIENTS:
        raise invalid(spec, f"unknown provider '{provider}'" if colon else "no provider")
    model, url = split_url(spec, rest)
    if not model:
        raise invalid(spec, "no model name")
    if provider == "openai-compatible" and url is None:
        raise invalid(spec, "openai-compatible needs the server URL after '@'")
    if provider == "openai" and url is not None:
        raise invalid(spec, "openai takes no URL (use openai-compatible:<model>@<URL>)")
    return LlmSpec(provider, model, url)  # type: ignore[arg-type]


def client_class(provider: str) -> type:
    """The LangChain chat-model class for a provider, imported only now (the extras are optional)."""
    module, name, package = CLIENTS[provider]
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise SettingsError(f"the {provider} LLM needs {package}: pip install 'litassist[llm]' "
                            f"(or pip install {package})") from exc


def client_kwargs(spec: LlmSpec, timeout: float, api_key: str | None) -> dict[str, Any]:
    """Constructor arguments for the spec's client class."""
    if spec.provider == "ollama":
        kwargs: dict[str, Any] = {"model": spec.model, "client_kwargs": {"timeout": timeout}}
        return kwargs | ({"base_url": spec.base_url} if spec.base_url else {})
    kwargs = {"model": spec.model, "timeout": timeout, "max_retries": 1}
    if spec.provider == "openai-compatible":
        return kwargs | {"base_url": spec.base_url, "api_key": api_key or NO_KEY}
    return kwargs | ({"api_key": api_key} if api_key else {})  # else the client reads OPENAI_API_KEY


def model_label(llm: Any) -> str:
    """A short name for a chat model in messages: its model name, else its class."""
    return str(getattr(llm, "model_name", None) or getattr(llm, "model", None) or type(llm).__name__)


def first_line(exc: BaseException) -> str:
    """'APIConnectionError: Connection error.' — one line, whatever the library raised."""
    return errors.first_line(exc, limit=200)


def ask_model(llm: Any, prompt: str) -> str:
    """The model's reply, streamed so that callbacks (the CLI's token printer, the UI's draft) see tokens as they
    arrive."""
    return "".join(chunk.text for chunk in llm.stream(prompt)).strip()


class TokenPrinter(BaseCallbackHandler):
    """Hands each streamed token to a writer (the CLI echoes them as they arrive; the UI shows a growing draft)."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.tokens = 0

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        """Called by LangChain for every streamed chunk."""
        self.tokens += 1
        self.write(token)
