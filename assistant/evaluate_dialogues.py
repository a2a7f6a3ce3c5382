"""Conversation evaluation: dialogues of questions and follow-ups, scored turn by turn (`litassist eval --dialogues`).

A dialogue file holds one JSON object per line: {"id": …, "turns": [{"q": …, "gold": [source ids] | "abstain",
"kind": optional label}, …]}. A turn with source ids is right when one of the answer's first three citations is one
of them; a turn whose gold is "abstain" is right when the answer abstains.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from litassist.assistant.conversation import Answerer, Conversation, Turn, ask
from litassist.assistant.errors import DialogueFileError
from litassist.assistant.models import Answer

ABSTAIN = "abstain"
CITED = 3  # a turn counts when a gold source is among the first three citations


@dataclass
class GoldTurn:
    """One question of a dialogue and what a right answer cites (or that it abstains)."""

    q: str
    gold: list[str] | None  # None: the answer should abstain
    kind: str | None = None


@dataclass
class Dialogue:
    """A conversation to replay."""

    id: str
    turns: list[GoldTurn]


def parse_turn(raw: object, where: str) -> GoldTurn:
    """One turn object, or a one-line error naming the line and what is wrong."""
    if not isinstance(raw, dict) or not isinstance(raw.get("q"), str) or not raw["q"].strip():
        raise DialogueFileError(f"{where}: every turn needs a non-empty \"q\"")
    gold = raw.get("gold")
    if gold != ABSTAIN and not (isinstance(gold, list) and gold and all(isinstance(g, str) for g in gold)):
        raise DialogueFileError(f"{where}: \"gold\" must be a list of source ids or \"abstain\"")
    kind = raw.get("kind")
    return GoldTurn(raw["q"], None if gold == ABSTAIN else gold, str(kind) if kind else None)


def load_dialogues(path: Path) -> list[Dialogue]:
    """Every dialogue of a JSONL file, validated."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DialogueFileError(f"cannot read {path}: {exc}") from exc
    dialogues = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DialogueFileError(f"{where}: not JSON ({exc.msg})") from exc
        if not isinstance(raw, dict) or not isinstance(raw.get("turns"), list) or not raw["turns"]:
            raise DialogueFileError(f"{where}: expected {{\"id\": …, \"turns\": [{{\"q\": …, \"gold\": …}}, …]}}")
        dialogues.append(Dialogue(str(raw.get("id", number)), [parse_turn(t, where) for t in raw["turns"]]))
    if not dialogues:
        raise DialogueFileError(f"{path}: no dialogues")
    return dialogues


def correct(answer: Answer, gold: GoldTurn) -> bool:
    """A gold source among the first three citations, or an abstention where one is due."""
    if gold.gold is None:
        return answer.abstained
    cited = [c.source_id for c in sorted(answer.citations, key=lambda c: c.n)[:CITED]]
    return not answer.abstained and any(sid in gold.gold for sid in cited)


def replay(dialogue: Dialogue, answer: Answerer, known: Callable[[str], bool],
           max_turns: int) -> list[Turn]:
    """Ask a dialogue's questions in order, in one conversation."""
    conversation = Conversation(max_turns=max_turns)
    return [ask(conversation, turn.q, answer, known) for turn in dialogue.turns]


def share(flags: list[bool]) -> float | None:
    """The share of True, or None for no turns."""
    return sum(flags) / len(flags) if flags else None


def dialogue_metrics(dialogues: list[Dialogue], played: dict[str, list[Turn]]) -> dict:
    """First-turn and follow-up accuracy, hit@3 on answerable turns, abstention, and accuracy by turn kind."""
    groups: dict[str, list[tuple[GoldTurn, Turn]]] = defaultdict(list)
    kinds: dict[str, list[bool]] = defaultdict(list)
    for dialogue in dialogues:
        for i, (gold, turn) in enumerate(zip(dialogue.turns, played[dialogue.id])):
            groups["first" if i == 0 else "follow_up"].append((gold, turn))
            if gold.kind:
                kinds[gold.kind].append(correct(turn.answer, gold))
    result: dict = {}
    for name, pairs in groups.items():
        answerable = [(g, t) for g, t in pairs if g.gold is not None]
        unanswerable = [t for g, t in pairs if g.gold is None]
        result[name] = {
            "correct": share([correct(t.answer, g) for g, t in pairs]), "n": len(pairs),
            "hit@3": share([correct(t.answer, g) for g, t in answerable]), "n_answerable": len(answerable),
            "abstain_rate": share([t.answer.abstained for _, t in answerable]),
            "abstained_when_due": share([t.answer.abstained for t in unanswerable]), "n_unanswerable": len(unanswerable),
            "rewritten": share([t.rewritten for _, t in pairs]),
        }
    result["by_kind"] = {k: {"correct": share(v), "n": len(v)} for k, v in sorted(kinds.items())}
    return result


def evaluate_dialogues(dialogues: list[Dialogue], answer: Answerer, known: Callable[[str], bool],
                       max_turns: int) -> tuple[dict, dict[str, list[Turn]]]:
    """Replay every dialogue (progress on stderr) and score it."""
    bar = tqdm(dialogues, desc="dialogues", unit="dialogue", file=sys.stderr, mininterval=1.0)
    played = {d.id: replay(d, answer, known, max_turns) for d in bar}
    return dialogue_metrics(dialogues, played), played


def render_dialogues(result: dict) -> str:
    """A plain-text table of the conversation metrics."""
    lines = [f"{result['dataset']} ({result['split']}, {result['retriever']}): {result['n_dialogues']} dialogues"]
    for name in ("first", "follow_up"):
        if m := result.get(name):
            lines.append(f"  {name.replace('_', '-') + ' turns':<16} correct {m['correct']:.3f} of {m['n']}; "
                         f"hit@3 {fmt(m['hit@3'])} of {m['n_answerable']}; abstained {fmt(m['abstain_rate'])} "
                         f"of answerable, {fmt(m['abstained_when_due'])} of {m['n_unanswerable']} unanswerable; "
                         f"rewritten {fmt(m['rewritten'])}")
    for kind, m in result.get("by_kind", {}).items():
        lines.append(f"  kind {kind:<14}correct {m['correct']:.3f} of {m['n']}")
    return "\n".join(lines)


def fmt(value: float | None) -> str:
    """A share with three decimals, or '-' when there was nothing to count."""
    return "-" if value is None else f"{value:.3f}"
