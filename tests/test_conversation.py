"""Conversations: follow-ups searched with the earlier turn's topic, answers that keep their sources, notes."""

from __future__ import annotations

import json

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from litassist.assistant.answer import answer
from litassist.assistant.conversation import Conversation, ask, notes_markdown, replay
from litassist.assistant.followup import resolve
from litassist.assistant.retrieval import HybridRetriever
from litassist.assistant.synonyms import load_synonyms
from tests.conftest import retriever_over

MISSION = "How does HER2 affect CXCR4?"


def queries(*questions: str) -> list[str]:
    """The search query of each question asked in order in one conversation (rules only)."""
    earlier, out = [], []
    for question in questions:
        resolution = resolve(question, earlier)
        out.append(resolution.search_query)
        earlier.append(resolution.topic)
    return out


# --- what each kind of turn is searched with ---------------------------------------------------


@pytest.mark.parametrize("follow_up", [
    "and what happens to its degradation?",  # possessive pronoun
    "What about its degradation?",  # lead-in
    "does it also block their degradation?",  # pronouns
])
def test_an_elliptical_follow_up_is_searched_with_the_earlier_entities(follow_up):
    first, second = queries(MISSION, follow_up)
    assert first == MISSION
    assert second.split()[:2] == ["HER2", "CXCR4"] and "degradation" in second


@pytest.mark.parametrize("fragment", ["And in mice?", "In breast cancer?", "Which inhibitors?"])
def test_a_fragment_without_a_clause_takes_the_earlier_topic(fragment):
    _, second = queries("What does the Hippo pathway figure show?", fragment)
    assert "Hippo" in second and second != fragment


def test_a_demonstrative_points_back_at_the_last_topic():
    _, second = queries("What does the Hippo pathway figure show?", "Which kinases act in this pathway?")
    assert second.startswith("Hippo") and "kinases" in second


def test_a_self_contained_question_comes_out_exactly_as_it_went_in():
    asked = ["How does Mdm2 affect p53?", "Is it true that TP53 is mutated in most cancers?",
             "How does EGFR affect its ligands?", "What is apoptosis?", "YAP TEAD"]
    assert queries(*asked) == asked


def test_a_pronoun_that_points_inside_its_own_question_carries_nothing():
    _, second, third = queries(MISSION, "How does EGFR signal, and what inhibits it?", "Does YAP bind it?")
    assert second == "How does EGFR signal, and what inhibits it?"  # 'it' is EGFR signalling
    assert third.startswith("EGFR YAP")  # within one clause 'it' cannot be YAP: it is the earlier topic


def test_a_similar_one_asks_for_another_source_on_the_same_genes():
    _, second, third = queries("What distinguishes canonical from noncanonical NF-κB activation?",
                               "Which receptors feed into them in mantle cell lymphoma?",
                               "Is there a similar one for lymphoma of the central nervous system?")
    assert third.startswith("NF-κB") and "central nervous system" in third  # 'one' stands for a figure said before
    assert "mantle" not in third  # the last source's details are not carried into a search for another


def test_a_topic_switch_carries_nothing_over():
    _, _, third = queries(MISSION, "and its degradation?", "Which kinases phosphorylate JNK in mitochondria?")
    assert third == "Which kinases phosphorylate JNK in mitochondria?"


def test_a_back_reference_after_an_unrelated_turn_uses_the_turn_that_named_it():
    found = queries("What does MKP1 do in mitochondria?", "How does EGFR activate ERK?",
                    "Going back to MKP1, which kinase does it dephosphorylate?")
    assert found[1] == "How does EGFR activate ERK?"
    assert "MKP1" in found[2] and "mitochondria" in found[2] and "EGFR" not in found[2]


def test_what_about_a_new_name_asks_the_earlier_question_of_it():
    _, second = queries("Which inhibitors target the Hippo pathway?", "What about the Notch pathway?")
    assert "Notch" in second and "inhibitors" in second and "Hippo" not in second


def test_history_is_bounded_by_the_setting():
    conversation = replay([f"How does GENE{i} affect p53?" for i in range(30)], lambda _: False, max_turns=5)
    assert len(conversation.topics) == 5 and len(conversation.questions) == 5
    assert conversation.topics[-1].names == ["GENE29", "p53"]


# --- answers in a conversation -----------------------------------------------------------------


@pytest.fixture()
def retriever(store, encoder) -> HybridRetriever:
    return retriever_over(store, encoder, load_synonyms(), k=8)


def answerer(retriever: HybridRetriever):
    """What the CLI and the UI pass a conversation: standalone query and focus -> Answer."""
    return lambda query, focus=None: answer(query, retriever, focus=focus)


def test_a_follow_up_alone_abstains_but_in_the_conversation_cites_the_paper(retriever):
    follow_up = "and what happens to its degradation?"
    assert answer(follow_up, retriever).abstained  # the bug: asked alone, nothing to go on
    conversation = Conversation()
    ask(conversation, MISSION, answerer(retriever))
    turn = ask(conversation, follow_up, answerer(retriever))
    assert turn.turn == 2 and turn.rewritten and turn.shows_query
    assert not turn.answer.abstained and turn.answer.question == follow_up
    assert turn.answer.citations[0].source_id == "doi:10.9999/jto.2019.0003"
    assert "degradation" in turn.answer.sentences[0].text


def test_a_conversation_never_changes_a_self_contained_answer(retriever):
    alone = answer("What does mitochondrial MKP1 do in radioresistant breast cancer cells?", retriever)
    conversation = Conversation()
    ask(conversation, MISSION, answerer(retriever))
    ask(conversation, "and its degradation?", answerer(retriever))
    turn = ask(conversation, alone.question, answerer(retriever))
    assert not turn.rewritten and turn.answer.model_dump() == alone.model_dump()


def test_an_abstaining_follow_up_says_what_was_searched(retriever):
    conversation = Conversation()
    ask(conversation, MISSION, answerer(retriever))
    turn = ask(conversation, "What is the capital of France?", answerer(retriever))
    assert turn.answer.abstained and not turn.rewritten and turn.shows_query


def test_notes_hold_every_turn_and_one_merged_reference_list(retriever):
    conversation = Conversation()
    for question in (MISSION, "and its degradation?", "What does mitochondrial MKP1 do in radioresistant cells?"):
        ask(conversation, question, answerer(retriever))
    notes = notes_markdown(conversation.turns)
    assert notes.count("**Q") == 3 and "*Searched for: HER2 CXCR4 degradation*" in notes
    refs = notes.split("## References", 1)[1].strip().splitlines()
    cited = {c.source_id for t in conversation.turns for c in t.answer.citations}
    assert len(refs) == len(cited)  # each source once
    assert sum("HER2 signalling raises CXCR4" in line for line in refs) == 1
    # the paper is [1] in turn 1 and keeps that number in turn 2; the MKP1 figure gets a later number
    body = notes.split("## References", 1)[0]
    q2 = body.split("**Q2.", 1)[1].split("**Q3.", 1)[0]
    assert "[1]" in q2
    figure_n = next(line.split(".")[0] for line in refs if "MKP1 relocates" in line)
    assert f"[{figure_n}]" in body.split("**Q3.", 1)[1] and figure_n != "1"


# --- a chat model rewrites follow-ups ------------------------------------------------------------


class RecordingChat(FakeListChatModel):
    """A fake chat model that remembers its prompts."""

    prompts: list[str] = []

    def _stream(self, messages, *args, **kwargs):
        self.prompts.append(str(messages[-1].content))
        yield from super()._stream(messages, *args, **kwargs)


def test_a_chat_model_rewrites_only_follow_ups_that_need_it(retriever):
    llm = RecordingChat(responses=["Standalone question: How does HER2 affect the degradation of CXCR4?"], prompts=[])
    conversation = Conversation()
    first = ask(conversation, MISSION, answerer(retriever), llm=llm)
    assert not first.rewritten and llm.prompts == []  # a self-contained question costs no model call
    turn = ask(conversation, "and what about its degradation?", answerer(retriever), llm=llm)
    assert turn.search_query == "How does HER2 affect the degradation of CXCR4?"
    assert "1. How does HER2 affect CXCR4?" in llm.prompts[0] and "its degradation" in llm.prompts[0]
    assert not turn.answer.abstained and turn.answer.note is None


def test_a_failing_chat_model_falls_back_to_the_rules_with_a_note(retriever):
    llm = FakeListChatModel(responses=["x"], error_on_chunk_number=0)
    conversation = Conversation()
    ask(conversation, MISSION, answerer(retriever), llm=llm)
    turn = ask(conversation, "and what about its degradation?", answerer(retriever), llm=llm)
    assert turn.search_query.startswith("HER2 CXCR4") and "could not rewrite" in turn.answer.note
    assert not turn.answer.abstained


# --- litassist chat ------------------------------------------------------------------------------


def test_chat_json_carries_the_conversation_across_lines(corpus_home, run_cli, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{MISSION}\n\nwhat about its degradation?\n"))
    code, out, err = run_cli("--home", corpus_home, "chat", "--json", "-k", "6")
    assert code == 0, err
    first, second = [json.loads(line) for line in out.splitlines()]
    assert {"question", "answer", "abstained", "citations", "passages", "expansions"} <= first.keys()
    assert (first["turn"], first["search_query"]) == (1, MISSION)
    assert second["turn"] == 2 and second["question"] == "what about its degradation?"
    assert second["search_query"] == "HER2 CXCR4 degradation"
    assert second["citations"][0]["source_id"] == "doi:10.9999/jto.2019.0003"


def test_eval_dialogues_scores_first_turns_and_follow_ups(corpus_home, run_cli, tmp_path):
    from tests.conftest import CORPUS

    dialogues = tmp_path / "dialogues.jsonl"
    dialogues.write_text("\n".join(json.dumps(d) for d in [
        {"id": "a", "turns": [{"q": MISSION, "gold": ["doi:10.9999/jto.2019.0003"], "kind": "first"},
                              {"q": "and its degradation?", "gold": ["doi:10.9999/jto.2019.0003"], "kind": "elliptical"},
                              {"q": "and what is the capital of France?", "gold": "abstain", "kind": "unanswerable"}]},
        {"id": "b", "turns": [{"q": "What does mitochondrial MKP1 do?", "gold": ["PMC9000001__fig3"]},
                              {"q": "Which kinase does it dephosphorylate?", "gold": ["PMC9000001__fig3"]}]},
    ]) + "\n", encoding="utf-8")
    code, out, err = run_cli("eval", CORPUS, "--dialogues", dialogues, "--json", "--home", tmp_path)
    assert code == 0, err
    result = json.loads(out)
    assert result["n_dialogues"] == 2 and result["first"]["n"] == 2 and result["follow_up"]["n"] == 3
    assert result["first"]["correct"] == 1.0 and result["follow_up"]["correct"] == 1.0
    assert result["by_kind"]["elliptical"] == {"correct": 1.0, "n": 1}
    assert result["follow_up"]["abstained_when_due"] == 1.0


def test_eval_dialogues_names_the_bad_line(run_cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "turns": [{"q": "x", "gold": 3}]}\n', encoding="utf-8")
    code, _, err = run_cli("eval", tmp_path, "--dialogues", bad, "--home", tmp_path)
    assert code == 1 and "bad.jsonl, line 1" in err and "gold" in err


def test_chat_at_a_terminal_follows_up_recalls_history_and_exports_notes(corpus_home, tmp_path):
    """`litassist chat` in a pseudo-terminal, typed as a person would, arrow key included."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", "from litassist import main; main()", "--home",
                             str(corpus_home), "chat"], stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path,
                            env={**os.environ, "TERM": "xterm"}, close_fds=True)
    os.close(slave)
    seen = b""

    def until(text: str, timeout: float = 120) -> str:
        nonlocal seen
        end = time.monotonic() + timeout
        while text.encode() not in seen:
            assert time.monotonic() < end, f"no {text!r} in {seen.decode(errors='replace')[-2000:]!r}"
            if select.select([master], [], [], 1)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
        return seen.decode(errors="replace")

    def type_line(text: str) -> None:
        nonlocal seen
        seen = b""
        os.write(master, text.encode() + b"\r")

    try:
        until("/export")  # the help shown at start
        type_line(MISSION)
        assert "HER2 increased the expression of CXCR4" in until("Journal of Test Oncology")
        type_line("and what happens to its degradation?")
        until("searched for: HER2 CXCR4 degradation")
        until("blocked the degradation")
        type_line("\x1b[A")  # arrow up: the previous question again
        until("searched for: HER2 CXCR4 degradation")
        until("> ")
        type_line("/export notes.md")
        until("saved 3 turn(s)")
        type_line("/quit")
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        os.close(master)
    notes = (tmp_path / "notes.md").read_text(encoding="utf-8")
    assert "**Q1. How does HER2 affect CXCR4?**" in notes and "**Q3. and what happens to its degradation?**" in notes
    assert notes.count("HER2 signalling raises CXCR4 levels") == 1  # one reference list, the paper once


@pytest.mark.parametrize("follow_up", ["Did they also try neratinib on those cells?", "And in zebrafish?"])
def test_a_follow_up_about_something_no_source_mentions_abstains(retriever, follow_up):
    conversation = Conversation()
    ask(conversation, MISSION, answerer(retriever))
    turn = ask(conversation, follow_up, answerer(retriever))
    assert turn.rewritten and turn.search_query.startswith("HER2 CXCR4")  # the topic was carried over …
    assert turn.answer.abstained and turn.shows_query  # … but nothing indexed says anything about what was asked


def test_a_word_in_the_other_spelling_or_form_counts_as_mentioned():
    from litassist.assistant.wording import unmentioned
    from litassist.index.records import Chunk, Paper, Passage

    text = "Esophageal tumors metastasize; hematopoietic cells localize there."
    passage = Passage(chunk=Chunk(id="c", source_id="p", kind="paper", position=0, text=text),
                      record=Paper(source_id="p"), score=1.0)
    asked = ["oesophageal", "tumours", "metastasising", "haematopoietic", "localised", "neratinib"]
    assert unmentioned(asked, [passage]) == ["neratinib"]


def test_a_follow_up_that_moves_to_another_figure_cites_that_figure(retriever):
    conversation = Conversation()
    ask(conversation, MISSION, answerer(retriever))
    turn = ask(conversation, "Is there a figure of the CXCL12 axis too?", answerer(retriever))
    assert not turn.rewritten  # it names its own topic
    assert turn.answer.citations[0].source_id == "PMC1000002__older"
