"""Public preference data as Winnow data (pure: records in, payloads out).

Each compared answer becomes what a product would have sent: a generation, the conversation
shared with it (so it is screened like any other), and the user's feedback on it. Exports then
turn the feedback back into preference pairs, which is how the round trip is checked.

- Anthropic hh-rlhf (`{"chosen", "rejected"}` transcripts in "\\n\\nHuman: ...\\n\\nAssistant: ..."
  form): both answers share one conversation id; the chosen one gets a thumbs up, the rejected
  one a thumbs down.
- OpenAssistant message trees (oasst `en_100_tree` export): every set of two or more ranked
  assistant replies to one message becomes a conversation (the path from the root, then each
  reply), with a `rank` event per reply (oasst rank 0 = best becomes rank 1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.payloads.conversations import ConversationIn
from app.payloads.events import EVENT_ADAPTER, EventIn
from app.payloads.generations import GenerationIn

_SPEAKER = re.compile(r"\n\n(Human|Assistant): ")
HH_ROLES = {"Human": "user", "Assistant": "assistant"}


@dataclass
class Bundle:
    """What one source record becomes; stored in this order (generations, items, events)."""

    generations: list[GenerationIn] = field(default_factory=list)
    conversations: list[ConversationIn] = field(default_factory=list)
    events: list[EventIn] = field(default_factory=list)


class Skipped(ValueError):
    """A record that cannot be a comparison (said why, never quoting its text)."""


def hh_turns(transcript: str) -> list[dict[str, str]]:
    parts = _SPEAKER.split(transcript)
    if parts[0].strip():
        raise Skipped("text before the first 'Human:' turn")
    return [{"role": HH_ROLES[parts[i]], "content": parts[i + 1]} for i in range(1, len(parts), 2)]


def hh_transcript(messages: Sequence[Mapping[str, str]]) -> str:
    """The inverse of `hh_turns`."""
    names = {v: k for k, v in HH_ROLES.items()}
    return "".join(f"\n\n{names[m['role']]}: {m['content']}" for m in messages)


def _answered(turns: list[dict[str, str]]) -> bool:
    return bool(turns) and turns[-1]["role"] == "assistant" and len(turns) >= 2


def hh_rlhf(record: Any, n: int, prefix: str = "hh") -> Bundle:
    if (
        not isinstance(record, dict)
        or not isinstance(record.get("chosen"), str)
        or not (isinstance(record.get("rejected"), str))
    ):
        raise Skipped("expected an object with string fields chosen and rejected")
    chosen, rejected = hh_turns(record["chosen"]), hh_turns(record["rejected"])
    if not _answered(chosen) or not _answered(rejected):
        raise Skipped("a transcript does not end with an Assistant turn")
    if chosen == rejected:
        raise Skipped("chosen and rejected are the same")
    conversation = f"{prefix}-{n}"
    bundle = Bundle()
    for side, turns, reaction in (
        ("chosen", chosen, "thumbs_up"),
        ("rejected", rejected, "thumbs_down"),
    ):
        ref = f"{conversation}-{side}"
        bundle.generations.append(
            GenerationIn.model_validate(
                {
                    "id": ref,
                    "conversation_id": conversation,
                    "model": {"name": "hh-rlhf", "version": "harmless-base"},
                    "feature": "hh-rlhf",
                }
            )
        )
        bundle.conversations.append(
            ConversationIn.model_validate(
                {
                    "id": ref,
                    "messages": turns,
                    "consent": True,
                    "generation_id": ref,
                    "conversation_id": conversation,
                }
            )
        )
        bundle.events.append(
            EVENT_ADAPTER.validate_python(
                {"id": f"{ref}-{reaction}", "type": reaction, "generation_id": ref}
            )
        )
    return bundle


OASST_ROLES = {"prompter": "user", "assistant": "assistant"}


def oasst_tree(tree: Any, prefix: str = "oasst") -> Iterator[Bundle]:
    """One bundle per message with two or more ranked assistant replies."""
    if not isinstance(tree, dict) or not isinstance(tree.get("prompt"), dict):
        raise Skipped("expected a message tree with a prompt")

    def walk(node: dict[str, Any], path: list[dict[str, str]]) -> Iterator[Bundle]:
        role = OASST_ROLES.get(node.get("role", ""))
        if role is None or not isinstance(node.get("text"), str) or node.get("deleted"):
            return
        here = [*path, {"role": role, "content": node["text"]}]
        replies = [r for r in node.get("replies") or [] if isinstance(r, dict)]
        ranked = [
            r
            for r in replies
            if r.get("role") == "assistant"
            and isinstance(r.get("rank"), int)
            and not r.get("deleted")
            and isinstance(r.get("text"), str)
        ]
        if role == "user" and len(ranked) >= 2:
            yield _ranked(node, here, ranked, prefix)
        for reply in replies:
            yield from walk(reply, here)

    yield from walk(tree["prompt"], [])


def _ranked(
    node: dict[str, Any], path: list[dict[str, str]], replies: list[dict[str, Any]], prefix: str
) -> Bundle:
    conversation = f"{prefix}-{node['message_id']}"
    bundle = Bundle()
    for reply in replies:
        ref = f"{prefix}-{reply['message_id']}"
        model = reply.get("model_name") if reply.get("synthetic") else None
        bundle.generations.append(
            GenerationIn.model_validate(
                {
                    "id": ref,
                    "conversation_id": conversation,
                    "model": {"name": model or "oasst-human"},
                    "feature": "oasst",
                }
            )
        )
        bundle.conversations.append(
            ConversationIn.model_validate(
                {
                    "id": ref,
                    "messages": [*path, {"role": "assistant", "content": reply["text"]}],
                    "consent": True,
                    "generation_id": ref,
                    "conversation_id": conversation,
                }
            )
        )
        bundle.events.append(
            EVENT_ADAPTER.validate_python(
                {
                    "id": f"{ref}-rank",
                    "type": "rank",
                    "rank": reply["rank"] + 1,
                    "generation_id": ref,
                }
            )
        )
    return bundle
