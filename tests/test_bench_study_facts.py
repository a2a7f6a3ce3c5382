"""The study-filter benchmark's assigned study types and species (bench/study_facts.py) are stored the way ingest
stores MEDLINE's: the real `litassist ask --study-type/--species` filters find exactly the papers given them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import ingest, store_at

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import study_facts  # noqa: E402

ORGANS = ["liver", "kidney", "heart", "lung", "brain", "skin"]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, encoder) -> Path:
    """40 BEIR-style abstracts (no study types or species of their own), given the benchmark's assignment."""
    home = tmp_path_factory.mktemp("study_bench")
    corpus = home.parent / "study_bench_corpus.jsonl"
    lines = [{"_id": f"p{i}", "title": f"YAP1 in the {ORGANS[i % 6]} ({i})",
              "text": f"YAP1 and TEAD drive cell proliferation in the regenerating {ORGANS[i % 6]}, cohort {i}."}
             for i in range(40)]
    corpus.write_text("\n".join(json.dumps(line) for line in lines))
    store = store_at(home, encoder.name)
    ingest([corpus], store, encoder)
    assert study_facts.assign(store) and not study_facts.assign(store_at(home, encoder.name))  # once per home
    return home


@pytest.mark.parametrize("option, value", [("--study-type", "review"), ("--species", "human"),
                                           ("--study-type", "randomized controlled trial"), ("--species", "mouse")])
def test_cli_filters_find_exactly_the_papers_the_benchmark_assigned(home, run_cli, option, value):
    field = "study_types" if option == "--study-type" else "species"
    assigned = {f"p{i}" for i in range(40) if value in study_facts.facts_for(f"p{i}")[field == "species"]}
    code, out, err = run_cli("--home", home, "ask", "What does YAP1 do in regeneration?", "--json", "-k", "40",
                             option, value)
    assert code == 0, err
    found = {p["source_id"] for p in json.loads(out)["passages"]}
    assert assigned and found == assigned


def test_unfiltered_answers_include_papers_the_filters_exclude(home, run_cli):
    code, out, _ = run_cli("--home", home, "ask", "What does YAP1 do in regeneration?", "--json", "-k", "40")
    data = json.loads(out)
    assert code == 0 and any("review" not in study_facts.facts_for(p["source_id"])[0] for p in data["passages"])
    # an answer's citations show the assigned study types and species, as they show MEDLINE's
    assert data["citations"] and all((c["study_types"], c["species"]) == study_facts.facts_for(c["source_id"])
                                     for c in data["citations"])
