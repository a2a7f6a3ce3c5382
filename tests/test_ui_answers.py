"""The chat handler of the UI: a chat model's tokens reach the page as they come; a source deleted while its answer
is being made leaves a card saying so, not an error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

import litassist.assistant  # noqa: F401  (offline switches before gradio loads)

from litassist.assistant.conversation import Turn
from litassist.assistant.factory import Components
from litassist.assistant.settings import Settings
from litassist.assistant.upload_jobs import delete_source
from tests.conftest import ingest, served, store_at

SYNONYMS = Path(__file__).parent / "data" / "synonyms"
QUESTION = "Does lapatinib block HER2?"  # answered by the ERBB2 paper (tests/data/synonyms)
REPLY = "Blocking the ERBB2 kinase with lapatinib halved the invasion of gastric carcinoma cells [1]."


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, encoder) -> Path:
    """A few small papers, the ERBB2 one among them."""
    home = tmp_path_factory.mktemp("ui_answers_home")
    assert not ingest([SYNONYMS], store_at(home, encoder.name), encoder).failed
    return home


def test_a_source_deleted_while_its_answer_is_made_gets_a_card_saying_so(tmp_path: Path, encoder) -> None:
    from litassist.app import ChatApp

    home = tmp_path / "home"
    ingest([SYNONYMS], store_at(home, encoder.name), encoder)

    class DeletedMeanwhile(ChatApp):
        """The page as another user deletes the cited paper (in the Library tab) just after retrieval."""

        def answers(self, conversation, message, where) -> Iterator[str | Turn]:
            for step in super().answers(conversation, message, where):
                if isinstance(step, Turn):
                    delete_source(self.components, step.answer.citations[0].source_id)
                yield step

    app = DeletedMeanwhile(Components(Settings(home=home)))
    app.build()
    *_, (chat, cards, notes, bib, ris, _, conversation, _) = app.chat(QUESTION, [], None, "both", "", "", "")
    assert "ERBB2" in chat[-1]["content"] and "[1]" in notes  # the answer is still shown, quoted and cited
    assert "No longer indexed." in cards and "ERBB2 amplification" in cards  # its card says the paper went
    assert bib["value"] is None and conversation["value"]  # nothing to export as BibTeX; the notes still download


def test_a_chat_models_answer_reaches_the_page_token_by_token(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gradio_client import Client

    # The model server is the outside boundary: a fake model that sends its reply a few characters at a time.
    monkeypatch.setattr(Components, "chat_model",
                        lambda self, spec=None: FakeListChatModel(responses=[REPLY], sleep=0.02))
    with served(Settings(home=home)) as url:
        job = Client(url, verbose=False).submit(QUESTION, [], "both", "", "", "", api_name="/chat")
        job.result()
        bubbles = [str(output[0][-1]["content"]) for output in job.outputs()]
    final, drafts = bubbles[-1], bubbles[:-1]
    assert "Written by FakeListChatModel, checked against your sources" in final and "Blocking the ERBB2" in final
    # Before it, the reply as it was being written: a draft that stops mid-sentence.
    assert any("Blocking the" in d and "gastric carcinoma" not in d for d in drafts), bubbles
    assert any("gastric carcinoma" in d and "Written by" not in d for d in drafts), bubbles
