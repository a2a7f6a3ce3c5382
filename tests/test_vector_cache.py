"""A changed chunk budget re-chunks the corpus; vectors of texts embedded before come from the on-disk cache."""

import json
from pathlib import Path

import numpy as np

from litassist.index.vector_cache import VectorCache

CORPUS = Path(__file__).parent / "data" / "corpus"


def ingest(run_cli, home: Path, monkeypatch, tokens: int) -> dict:
    """`litassist ingest --json` of the test corpus with this chunk budget."""
    monkeypatch.setenv("LITASSIST_CHUNKING__MAX_TOKENS", str(tokens))
    code, out, err = run_cli("--home", home, "ingest", CORPUS, "--json")
    assert code == 0, err
    return json.loads(out)


def test_changing_the_chunk_budget_rechunks_and_changing_back_embeds_nothing(tmp_path, run_cli, monkeypatch):
    home = tmp_path / "home"
    first = ingest(run_cli, home, monkeypatch, 200)
    assert first["embedded"] > 0 and first["counts"]["added"] == len(first["outcomes"])
    smaller = ingest(run_cli, home, monkeypatch, 48)
    assert smaller["counts"]["replaced"] == len(first["outcomes"])  # not "unchanged": the setting took effect
    assert smaller["embedded"] > 0
    back = ingest(run_cli, home, monkeypatch, 200)
    assert back["counts"]["replaced"] == len(first["outcomes"])
    assert back["embedded"] == 0 and back["reused"] == sum(o["chunks"] for o in back["outcomes"])
    code, out, _ = run_cli("--home", home, "ask", "how does HER2 affect CXCR4", "--json")
    assert code == 0 and json.loads(out)["citations"][0]["source_id"] == "doi:10.9999/jto.2019.0003"


def test_cache_keys_include_the_model(tmp_path, encoder):
    vector = encoder.encode(["CXCR4 drives metastasis."])
    VectorCache(tmp_path, "model-a").add(["CXCR4 drives metastasis."], vector)
    found = VectorCache(tmp_path, "model-a").lookup(["CXCR4 drives metastasis.", "never seen"])
    assert list(found) == ["CXCR4 drives metastasis."] and np.array_equal(found["CXCR4 drives metastasis."], vector[0])
    assert VectorCache(tmp_path, "model-b").lookup(["CXCR4 drives metastasis."]) == {}
