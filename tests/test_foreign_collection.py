"""Another program's Chroma collection with litassist's name: refused with one line, and left exactly as it was."""

from __future__ import annotations

from pathlib import Path

import chromadb


def test_a_collection_litassist_did_not_make_is_left_alone(tmp_path: Path, run_cli, encoder) -> None:
    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    theirs = client.get_or_create_collection(f"chunks-{encoder.name}", embedding_function=None,
                                             configuration={"hnsw": {"ef_search": 50}})
    theirs.add(ids=["a"], embeddings=[[0.1] * 384], documents=["their text"], metadatas=[{"owner": "them"}])
    del theirs, client

    code, _, err = run_cli("--home", tmp_path, "sources")
    assert code == 1 and "was not made by litassist" in err and len(err.strip().splitlines()) == 1, err
    assert "KeyError" not in err
    after = chromadb.PersistentClient(path=str(tmp_path / "chroma")).get_collection(f"chunks-{encoder.name}")
    assert after.configuration["hnsw"]["ef_search"] == 50 and not after.metadata  # not modified
    assert after.get()["ids"] == ["a"]
