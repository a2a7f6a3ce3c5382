"""Retrieval and citation quality on a BEIR-format dataset (corpus.jsonl, queries.jsonl, qrels/<split>.tsv)."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import ir_measures
from ir_measures import RR, R, Success, nDCG
from tqdm import tqdm

from litassist.index.embedding import model_slug
from litassist.assistant.errors import DatasetError
from litassist.index.ingest import IngestReport, file_hash

from litassist.assistant.answer import answer, answering
from litassist.assistant.factory import Components
from litassist.assistant.models import Answer
from litassist.assistant.retrieval import HybridRetriever, Mode
from litassist.assistant.settings import Settings

# Our key -> the ir-measures measure that computes it (pytrec_eval underneath).
MEASURES = {"ndcg@10": nDCG @ 10, "recall@10": R @ 10, "recall@100": R @ 100, "mrr@10": RR @ 10,
            "hit@1": Success @ 1, "hit@3": Success @ 3}
LABELS = {"ndcg@10": "nDCG@10", "recall@10": "Recall@10", "recall@100": "Recall@100", "mrr@10": "MRR@10",
          "hit@1": "retrieval hit@1", "hit@3": "retrieval hit@3",
          "cite_hit@1": "citation hit@1", "cite_hit@3": "citation hit@3", "abstain_rate": "abstention rate",
          "offcorpus_abstain_rate": "off-corpus abstention"}


@dataclass
class Dataset:
    """A BEIR dataset restricted to one split: queries that have relevant documents, and their qrels."""

    name: str
    corpus: list[Path]  # what is ingested: a BEIR corpus.jsonl, or the folders and files of a question set
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


@dataclass
class Outcome:
    """What the system did for one query: the document ranking and the cited answer."""

    ranking: list[str]
    answer: Answer


def need(path: Path) -> Path:
    """The path, or a one-line error naming what is missing."""
    if not path.is_file():
        raise DatasetError(f"{path} not found (expected corpus.jsonl, queries.jsonl and qrels/<split>.tsv)")
    return path


def read_queries(path: Path) -> dict[str, str]:
    """query id -> text; only `text` is read (BEIR metadata may hold the answers)."""
    with need(path).open(encoding="utf-8") as handle:
        rows = (json.loads(line) for line in handle if line.strip())
        return {str(row["_id"]): str(row["text"]) for row in rows}


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query id -> {doc id: grade} from a TSV, with or without the `query-id corpus-id score` header."""
    qrels: dict[str, dict[str, int]] = {}
    with need(path).open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) >= 3 and row[2].strip().lstrip("-").isdigit():
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def load_dataset(folder: Path, split: str = "dev") -> Dataset:
    """Queries of the split with at least one relevant document (grade > 0), and their qrels."""
    queries = read_queries(folder / "queries.jsonl")
    qrels = {q: docs for q, docs in read_qrels(folder / "qrels" / f"{split}.tsv").items()
             if q in queries and any(g > 0 for g in docs.values())}
    if not qrels:
        raise DatasetError(f"no query in {folder / 'queries.jsonl'} has relevant documents in split '{split}'")
    return Dataset(folder.resolve().name, [need(folder / "corpus.jsonl")], {q: queries[q] for q in qrels}, qrels)


def corpus_name(paths: list[Path]) -> str:
    """'pfocr' or 'pfocr+seeds': the names of what is ingested."""
    return "+".join(p.resolve().name for p in paths)


def load_question_set(paths: list[Path], path: Path) -> Dataset:
    """Questions with the source each should find ('question<TAB>source_id' lines) over any ingestible folder."""
    rows = [line.split("\t") for line in need(path).read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    rows = [r for r in rows if len(r) >= 2 and r[0].strip().lower() != "question"]
    if not rows:
        raise DatasetError(f"{path}: no 'question<TAB>source id' lines")
    ids = [f"q{i}" for i in range(1, len(rows) + 1)]
    return Dataset(corpus_name(paths), paths, {q: r[0].strip() for q, r in zip(ids, rows)},
                   {q: {r[1].strip(): 1} for q, r in zip(ids, rows)})


def corpus_hash(path: Path | list[Path]) -> str:
    """Content hash of a corpus file, or of every file (name and bytes) under a folder, or of several of these."""
    if isinstance(path, list):
        return corpus_hash(path[0]) if len(path) == 1 else hashlib.sha256(
            "\n".join(corpus_hash(p) for p in path).encode()).hexdigest()
    if path.is_file():
        return file_hash(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path)}\0{file_hash(file)}\n".encode())
    return digest.hexdigest()


def index_home(base: Path, corpus: list[Path], model: str) -> Path:
    """One data home per corpus content and model, so re-running an evaluation embeds nothing."""
    return base / "eval" / f"{corpus_hash(corpus)[:16]}-{model}"


def build_index(dataset: Dataset, settings: Settings) -> tuple[Components, IngestReport]:
    """Ingest the corpus into its own data home (unchanged files are skipped, known chunks reused)."""
    home = index_home(settings.home, dataset.corpus, model_slug(settings.embedding.model))
    comp = Components(settings.model_copy(update={"home": home}))
    report = comp.ingestor(show_progress=sys.stderr.isatty()).run(dataset.corpus)  # every ingest setting applies
    for failed in report.failed:  # a folder may hold a file that cannot load; the rest is still scored
        print(f"warning: {failed.file}: {failed.reason}", file=sys.stderr)
    if report.failed and comp.store.count() == 0:
        raise DatasetError(f"{report.failed[0].file}: {report.failed[0].reason}")
    print(f"index {comp.settings.home}: {report.embedded} chunks embedded, {report.reused} reused", file=sys.stderr)
    return comp, report


def make_retriever(comp: Components, mode: Mode) -> HybridRetriever:
    """The configured retriever (ranking documents as settings say), restricted to one mode."""
    return comp.retriever().model_copy(update={"mode": mode})


def run_query(question: str, retriever: HybridRetriever, settings: Settings) -> Outcome:
    """Rank documents deeply for the IR metrics, and answer exactly as `litassist ask` would."""
    docs = retriever.documents(question)  # doc_candidates deep, as settings say
    return Outcome([p.chunk.source_id for p in docs], answer(question, retriever, settings=settings.answer))


def run_all(dataset: Dataset, retriever: HybridRetriever, settings: Settings) -> dict[str, Outcome]:
    """Every query of the split, with a progress bar on stderr."""
    bar = tqdm(dataset.queries.items(), desc=f"{dataset.name} queries", unit="q", file=sys.stderr, mininterval=1.0)
    return {qid: run_query(text, retriever, settings) for qid, text in bar}


def ir_metrics(qrels: dict[str, dict[str, int]], rankings: dict[str, list[str]]) -> dict[str, float]:
    """nDCG@10, Recall@10/100 and MRR@10 via ir-measures, averaged over all queries (no results scores 0)."""
    # Scores from ranks, so pytrec_eval's tie-breaking cannot reorder our ranking.
    run = {q: {doc: float(len(docs) - i) for i, doc in enumerate(docs)} for q, docs in rankings.items() if docs}
    names = {measure: name for name, measure in MEASURES.items()}
    totals = dict.fromkeys(MEASURES, 0.0)
    for metric in ir_measures.iter_calc(list(MEASURES.values()), qrels, run):
        totals[names[metric.measure]] += metric.value
    return {name: total / len(qrels) for name, total in totals.items()}


def cite_hit(result: Answer, relevant: set[str], n: int) -> float:
    """1.0 when one of the first n citations is a relevant document (an abstention is a miss)."""
    cited = sorted(result.citations, key=lambda c: c.n)[:n]
    return float(any(c.source_id in relevant for c in cited))


def answer_metrics(dataset: Dataset, outcomes: dict[str, Outcome]) -> dict[str, float]:
    """Citation hit@1, hit@3 and the abstention rate over the answerable queries."""
    relevant = {q: {d for d, g in docs.items() if g > 0} for q, docs in dataset.qrels.items()}
    n = len(outcomes)
    return {
        "cite_hit@1": sum(cite_hit(o.answer, relevant[q], 1) for q, o in outcomes.items()) / n,
        "cite_hit@3": sum(cite_hit(o.answer, relevant[q], 3) for q, o in outcomes.items()) / n,
        "abstain_rate": sum(o.answer.abstained for o in outcomes.values()) / n,
    }


def read_questions(path: Path) -> list[str]:
    """One question per line; blank lines and '#' comments are skipped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def offcorpus_abstain_rate(questions: list[str], retriever: HybridRetriever, settings: Settings) -> float:
    """Share of questions the corpus cannot answer on which the answerer abstains (higher is better)."""
    bar = tqdm(questions, desc="off-corpus questions", unit="q", file=sys.stderr, mininterval=1.0)
    return sum(answer(q, retriever, settings=settings.answer).abstained for q in bar) / len(questions)


def evaluate(folder: Path | list[Path], split: str = "dev", mode: Mode = "hybrid", settings: Settings | None = None,
             offcorpus: Path | None = None, questions: Path | None = None) -> dict[str, float | int | str]:
    """Index the corpus (cached), run every query of the split (or of a question file), and return the metrics."""
    settings = settings or Settings()
    paths = [Path(p) for p in folder] if isinstance(folder, list) else [Path(folder)]
    if not questions and len(paths) != 1:
        raise DatasetError("a BEIR evaluation takes one folder; several paths go with --questions or --dialogues")
    dataset = load_question_set(paths, questions) if questions else load_dataset(paths[0], split)
    comp, _ = build_index(dataset, settings)
    retriever = make_retriever(comp, mode)
    outcomes = run_all(dataset, retriever, settings)
    result: dict[str, float | int | str] = {
        **ir_metrics(dataset.qrels, {q: o.ranking for q, o in outcomes.items()}),
        **answer_metrics(dataset, outcomes), "n_queries": len(outcomes),
        "retriever": mode, "dataset": dataset.name, "split": questions.name if questions else split,
    }
    if offcorpus is not None:
        questions = read_questions(offcorpus)
        result["offcorpus_abstain_rate"] = offcorpus_abstain_rate(questions, retriever, settings)
        result["n_offcorpus"] = len(questions)
    return result


def render(result: dict[str, float | int | str]) -> str:
    """A small plain-text table of the metrics."""
    head = f"{result['dataset']} ({result['split']}, {result['retriever']}): {result['n_queries']} queries"
    rows = [f"  {LABELS[k]:<22}{result[k]:.4f}" for k in LABELS if k in result]
    return "\n".join([head, *rows])


def evaluate_conversations(paths: list[Path], dialogues: Path, mode: Mode = "hybrid",
                           settings: Settings | None = None) -> dict:
    """Index the paths (cached) and replay every dialogue of the file in its own conversation."""
    from litassist.assistant.evaluate_dialogues import evaluate_dialogues, load_dialogues

    settings = settings or Settings()
    found = load_dialogues(dialogues)
    comp, _ = build_index(Dataset(corpus_name(paths), paths, {}, {}), settings)
    retriever = make_retriever(comp, mode)
    metrics, _ = evaluate_dialogues(found, answering(retriever, settings.answer), comp.known_name(),
                                    settings.conversation.max_turns)
    return {**metrics, "n_dialogues": len(found), "retriever": mode, "dataset": corpus_name(paths),
            "split": dialogues.name}
