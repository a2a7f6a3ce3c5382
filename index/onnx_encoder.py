"""A sentence-transformers model run by ONNX Runtime: exported once from the local weights, optionally int8.

The export (torch + the `onnx` package) happens on first use and is cached; later processes load only
onnxruntime and the fast tokenizer, so they never import torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from litassist.index import offline  # noqa: F401  (before any library that could reach the network)
from litassist.index.errors import ModelError

RECIPE = 2  # bump when the export or quantisation recipe changes: older exports are then ignored
_SESSIONS: dict[tuple[str, tuple[str, ...]], object] = {}  # one ONNX Runtime session per file and providers


def model_config(path: Path) -> dict:
    """max_seq_length and hidden size of a local sentence-transformers folder; only mean pooling is supported."""
    try:
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
        hidden = json.loads((path / "config.json").read_text())["hidden_size"]
        bert = json.loads((path / "sentence_bert_config.json").read_text())
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{path} is not a sentence-transformers model folder the onnx backend can read") from exc
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ModelError(f"the onnx backend supports mean-pooled models only; use backend 'torch' for {path}")
    return {"max_seq_length": int(bert.get("max_seq_length", 256)), "hidden_size": int(hidden)}


def export_path(model_path: Path, cache_dir: Path, quantize: bool, label: str = "") -> Path:
    """Where the export of this model (and recipe) lives: keyed by the weights' size and time, so an update re-exports."""
    weights = next((model_path / n for n in ("model.safetensors", "pytorch_model.bin") if (model_path / n).exists()),
                   model_path / "config.json")
    info = weights.stat()
    key = hashlib.sha256(f"{RECIPE}|{model_path.resolve()}|{info.st_size}|{info.st_mtime_ns}".encode()).hexdigest()
    variant = "int8" if quantize else "fp32"
    return cache_dir / f"{label or model_path.name[:40]}-{variant}-{key[:12]}" / "model.onnx"


def export(model_path: Path, target: Path, quantize: bool) -> Path:
    """Export the model with mean pooling and L2 normalisation inside the graph; int8 weights if asked."""
    try:
        import onnx  # noqa: F401  (torch's exporter and onnxruntime's quantiser both need it)
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise ModelError("exporting the model for the onnx backends needs the 'onnx' package: "
                         "pip install onnx (or set LITASSIST_EMBEDDING__BACKEND=torch)") from exc
    hf_logging.disable_progress_bar()  # a "Loading weights" bar means nothing to a user of the CLI
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        module = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()
        _export_pooled(torch, module, fp32)
        final = fp32
        if quantize:
            final = Path(tmp) / "int8.onnx"
            _quantize(fp32, final)
        os.replace(final, target)  # atomic: a concurrent or interrupted export never leaves half a file
    return target


def _export_pooled(torch, module, target: Path) -> None:
    """torch.onnx export of transformer + mean pooling + normalisation (what sentence-transformers computes)."""

    class Pooled(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    sample = torch.ones(2, 8, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {**{n: {0: "batch", 1: "tokens"} for n in names}, "embedding": {0: "batch"}}
    # The TorchScript exporter (dynamo's needs onnxscript too); its tracer warnings concern branches that are
    # constant for this model (full-length masks, no causal attention), so they are noise for users.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Pooled(module), (sample, sample, torch.zeros_like(sample)), str(target),
                          input_names=names, output_names=["embedding"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8 matrix multiplications, weights per output channel; the embedding tables stay float.

    On scifact dev (exact dense nDCG@10, fp32 0.7805): per-tensor weights lose ~0.06 cosine, per-channel with the
    embedding tables quantised too 0.7717, this recipe 0.7766 (docs/benchmarks.md)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # the quantiser logs advice about static quantisation on the root logger
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
    finally:
        logging.disable(logging.NOTSET)


def providers(device: str) -> list[str]:
    """ONNX Runtime providers for a device setting: CUDA first when asked for (or 'auto' and available)."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device == "cuda" and "CUDAExecutionProvider" not in available:
        raise ModelError("this onnxruntime has no CUDA support: install onnxruntime-gpu, or use backend 'torch'")
    if device in ("cuda", "auto") and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def load_session(path: Path, device: str):
    """Load (or reuse) an ONNX Runtime session for an exported file."""
    chosen = tuple(providers(device))
    key = (str(path), chosen)
    if key not in _SESSIONS:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            _SESSIONS[key] = ort.InferenceSession(str(path), options, providers=list(chosen))
        except Exception as exc:  # a damaged export is a configuration problem: say where it is
            raise ModelError(f"cannot load the exported model {path} (delete it to export again): {exc}") from exc
    return _SESSIONS[key]


class OnnxEncoder:
    """The same model through ONNX Runtime (fp32, or int8 weights); vectors match the torch encoder's closely."""

    def __init__(self, model_path: str, name: str, cache_dir: Path, *, device: str, batch_size: int,
                 quantize: bool = True) -> None:
        self.path = Path(model_path)
        self.label = name
        # int8 vectors differ from fp32 ones (cosine ~0.99): their own name keeps them in their own collection
        self.name = f"{name}-int8" if quantize else name
        self.cache_dir = Path(cache_dir)
        self.device = device
        self.batch_size = batch_size
        self.quantize = quantize
        self.config = model_config(self.path)
        self._session = None
        self._counter = None
        self._batcher = None

    @property
    def needs_export(self) -> bool:
        """The model has not been exported on this machine yet (the first use takes ~20 s longer)."""
        return self._session is None and not export_path(self.path, self.cache_dir, self.quantize, self.label).exists()

    @property
    def session(self):
        """The ONNX Runtime session, exporting the model first if this is its first use."""
        if self._session is None:
            target = export_path(self.path, self.cache_dir, self.quantize, self.label)
            if not target.exists():
                export(self.path, target, self.quantize)
            self._session = load_session(target, self.device)
        return self._session

    def _tokenizer(self, batch: bool):
        """The fast tokenizer: for counting no truncation; for batches the model window and padding."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()  # the bundled tokenizer.json pads and truncates to 128; the model reads 256
        if batch:
            tokenizer.enable_truncation(self.config["max_seq_length"])
            tokenizer.enable_padding()
        return tokenizer

    @property
    def dimension(self) -> int:
        """Vector length."""
        return self.config["hidden_size"]

    def count_tokens(self, text: str) -> int:
        """Exact word-piece count (special tokens excluded, like the torch encoder's)."""
        if self._counter is None:
            self._counter = self._tokenizer(batch=False)
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def _run(self, texts: list[str]) -> np.ndarray:
        """One padded batch through the session."""
        if self._batcher is None:
            self._batcher = self._tokenizer(batch=True)
        encoded = self._batcher.encode_batch(texts)
        arrays = {"input_ids": [e.ids for e in encoded], "attention_mask": [e.attention_mask for e in encoded],
                  "token_type_ids": [e.type_ids for e in encoded]}
        feed = {i.name: np.asarray(arrays[i.name], dtype=np.int64) for i in self.session.get_inputs()}
        return self.session.run(None, feed)[0]

    def encode(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Encode in batches, sorted by length so batches carry little padding."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([len(t) for t in texts])
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._run([texts[i] for i in idx])
            if progress:
                progress(len(idx))
        return out
