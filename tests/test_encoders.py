"""The ONNX Runtime encoders (fp32 and int8) against the torch one, and the whole app running on int8."""

import json
from pathlib import Path

import numpy as np
import pytest

from litassist.assistant.settings import EmbeddingSettings
from litassist.index.embedding import Encoder, make_encoder

CORPUS = Path(__file__).parent / "data" / "corpus"
SENTENCES = [
    "HER2 signalling raises CXCR4 levels in breast cancer cells.",
    "BRCA1 is required for homologous recombination repair of DNA double-strand breaks.",
    "Vitamin D supplementation did not reduce the risk of fractures in older adults.",
    "The Wnt/β-catenin pathway controls intestinal stem cell renewal.",
    "Metformin activates AMPK and lowers hepatic glucose production.",
]
LONG = " ".join(SENTENCES * 8)  # ~400 word pieces: beyond the model's 256-token window
DEFAULT = EmbeddingSettings()


def built(backend: str, export_dir: Path | None = None, device: str = DEFAULT.device) -> Encoder:
    """An encoder of the bundled model on a backend, with the default batch size."""
    return make_encoder(backend, DEFAULT.model, device=device, batch_size=DEFAULT.batch_size, cache_dir=export_dir)


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export folder for the module: each backend exports once."""
    return tmp_path_factory.mktemp("models")


@pytest.mark.parametrize("backend,floor", [("onnx", 0.9999), ("onnx-int8", 0.99)])
def test_onnx_vectors_match_the_torch_model(encoder, export_dir, backend, floor):
    fast = built(backend, export_dir, device="cpu")
    reference, vectors = encoder.encode(SENTENCES + [LONG]), fast.encode(SENTENCES + [LONG])
    assert vectors.shape == reference.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert (np.sum(vectors * reference, axis=1) >= floor).all()
    # nearest neighbours agree: each sentence is closest to itself among the torch vectors
    assert ((vectors @ reference.T).argmax(axis=1) == np.arange(len(SENTENCES) + 1)).all()


def test_onnx_counts_word_pieces_like_the_torch_tokenizer(encoder, export_dir):
    fast = built("onnx-int8", export_dir, device="cpu")
    for text in SENTENCES + [LONG, "", "IL-6/JAK2/STAT3 ×2 α-syn"]:
        assert fast.count_tokens(text) == encoder.count_tokens(text)


def test_the_export_happens_once_and_int8_keeps_its_own_index_name(export_dir):
    first = built("onnx-int8", export_dir, device="cpu")
    first.encode(["warm"])
    files = sorted(export_dir.rglob("*.onnx"))
    stamps = [f.stat().st_mtime_ns for f in files]
    second = built("onnx-int8", export_dir, device="cpu")
    second.encode(["again"])
    assert sorted(export_dir.rglob("*.onnx")) == files and [f.stat().st_mtime_ns for f in files] == stamps
    assert first.name == "all-MiniLM-L6-v2-int8"
    assert built("onnx", export_dir).name == built("torch").name == "all-MiniLM-L6-v2"


def test_ingest_and_ask_with_the_int8_backend(tmp_path, export_dir, run_cli, monkeypatch):
    monkeypatch.setenv("LITASSIST_EMBEDDING__BACKEND", "onnx-int8")
    monkeypatch.setenv("LITASSIST_EMBEDDING__EXPORT_DIR", str(export_dir))
    home = tmp_path / "home"
    code, _, err = run_cli("--home", home, "ingest", CORPUS)
    assert code == 0, err
    code, out, _ = run_cli("--home", home, "ask", "how does HER2 affect CXCR4", "--json")
    data = json.loads(out)
    assert code == 0 and not data["abstained"]
    assert data["citations"][0]["source_id"] == "doi:10.9999/jto.2019.0003"
    assert "CXCR4" in data["answer"]
    # the fp32 backends read another collection: int8 vectors never mix with fp32 ones
    monkeypatch.setenv("LITASSIST_EMBEDDING__BACKEND", "torch")
    code, out, _ = run_cli("--home", home, "sources", "--json")
    assert code == 0 and json.loads(out)["chunks"] == 0
    monkeypatch.setenv("LITASSIST_EMBEDDING__BACKEND", "onnx-int8")
    code, out, _ = run_cli("--home", home, "sources", "--json")
    assert code == 0 and json.loads(out)["chunks"] > 0


def test_auto_backend_keeps_answering_from_an_index_built_with_fp32_vectors(tmp_path, export_dir, run_cli, monkeypatch):
    monkeypatch.setenv("LITASSIST_EMBEDDING__EXPORT_DIR", str(export_dir))
    monkeypatch.setenv("LITASSIST_EMBEDDING__DEVICE", "cpu")
    monkeypatch.setenv("LITASSIST_EMBEDDING__BACKEND", "torch")
    home = tmp_path / "home"
    assert run_cli("--home", home, "ingest", CORPUS / "papers")[0] == 0
    monkeypatch.setenv("LITASSIST_EMBEDDING__BACKEND", "auto")
    code, out, err = run_cli("--home", home, "ask", "how does HER2 affect CXCR4", "--json")
    assert code == 0, err
    assert json.loads(out)["citations"][0]["source_id"] == "doi:10.9999/jto.2019.0003"
    code, out, _ = run_cli("--home", tmp_path / "fresh", "ingest", CORPUS / "papers", "--json")
    assert code == 0 and json.loads(out)["embedded"] > 0
    code, out, _ = run_cli("--home", tmp_path / "fresh", "sources", "--json")  # a new home: the int8 index
    monkeypatch.setenv("LITASSIST_EMBEDDING__BACKEND", "onnx-int8")
    assert run_cli("--home", tmp_path / "fresh", "sources", "--json")[1] == out
