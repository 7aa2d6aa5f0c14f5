"""POST /v1/generations (one or a batch) and GET /v1/generations/{id}."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from app.api.batch import ingest
from app.api.request import caller, json_body, respond, sealing, transaction
from app.api.spec import operation
from app.models import Project
from app.payloads.events import BatchResult, EventResult
from app.payloads.generations import GenerationIn, GenerationOut
from app.services import generations as service
from app.services.errors import NotFound
from app.services.projects import signal_map

bp = Blueprint("generations", __name__)
GENERATION_ADAPTER: TypeAdapter[GenerationIn] = TypeAdapter(GenerationIn)
GENERATION_LIST_ADAPTER: TypeAdapter[list[GenerationIn]] = TypeAdapter(list[GenerationIn])


class GenerationBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    generations: list[GenerationIn] = Field(min_length=1, max_length=1000)


@operation(
    bp, "/generations", "POST",
    summary="Record a generation (or a batch of up to 1,000)",
    scope="events:write",
    body=[GenerationIn, GenerationBatchIn],
    responses={
        200: ("One generation recognised as a replay (an EventResult), or a batch whose every "
              "generation was stored or recognised as a replay (a BatchResult)",
              EventResult | BatchResult),
        201: ("One generation stored", EventResult),
        207: ("Batch: some generations refused; see each result", BatchResult),
    },
    problems=[400, 409, 413, 415, 422],
    description="Idempotent on `id`. Feedback events that named this generation before it "
    "arrived are linked to it from then on.",
)
def post_generations() -> Response:
    return ingest(json_body(), batch_key="generations", adapter=GENERATION_ADAPTER,
                  batch_adapter=GENERATION_LIST_ADAPTER,
                  store=partial(service.store_generations, sealing=sealing()),
                  location="/v1/generations/{id}")


@operation(
    bp, "/generations/<generation_id>", "GET",
    summary="A generation with the summary of its feedback",
    scope="events:read",
    responses={200: ("The generation", GenerationOut)},
    problems=[404],
)
def get_generation(generation_id: str) -> Response:
    project_id = caller().project_id
    with transaction() as session:
        generation = service.get_generation(session, project_id, generation_id)
        if generation is None:
            raise NotFound("no generation with that id in this project")
        signals = signal_map(session.get_one(Project, project_id))
        summary = service.feedback_summary(session, project_id, generation_id, signals)
        out = service.to_out(generation, summary)
    return respond(out)
