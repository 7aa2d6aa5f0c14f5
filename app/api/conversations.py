"""POST /v1/conversations: shared conversations (one or a batch) into curation."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Response

from app.api.batch import ingest
from app.api.request import job_queue, json_body, sealer
from app.api.spec import operation
from app.payloads.conversations import (
    CONVERSATION_ADAPTER,
    CONVERSATION_LIST_ADAPTER,
    ConversationBatchIn,
    ConversationIn,
)
from app.payloads.events import BatchResult, EventResult
from app.services.conversations import store_conversations

bp = Blueprint("conversations", __name__)


@operation(
    bp, "/conversations", "POST",
    summary="Share one conversation, or a batch, for curation",
    scope="events:write",
    body=[ConversationIn, ConversationBatchIn],
    responses={
        200: ("One conversation recognised as a replay (an EventResult), or a batch whose "
              "every conversation was stored or recognised as a replay (a BatchResult)",
              EventResult | BatchResult),
        201: ("One conversation stored; it is screened on the queue", EventResult),
        207: ("Batch: some conversations refused; see each result", BatchResult),
    },
    problems=[400, 409, 413, 415, 422, 503],
    description="Each conversation becomes a curation item in state `received` (its raw text "
    "encrypted at rest) and is screened by a worker: PII redacted, duplicates merged, pranks "
    "filtered. Follow it with GET /v1/items/{id}. `consent` must be true. Idempotent on `id`.",
)
def post_conversations() -> Response:
    store = partial(store_conversations, box=sealer(), queue=job_queue())
    return ingest(json_body(), batch_key="conversations", adapter=CONVERSATION_ADAPTER,
                  batch_adapter=CONVERSATION_LIST_ADAPTER, store=store,
                  location="/v1/items/{id}")
