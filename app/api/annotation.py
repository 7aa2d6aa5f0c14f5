"""GET /v1/projects/{project}/agreement: annotator agreement and what user feedback predicts."""

from __future__ import annotations

from flask import Blueprint, Response

from app.api.request import caller, respond, transaction
from app.api.spec import operation
from app.models import Project
from app.payloads.annotation import AgreementOut, FeedbackPredictionOut, ItemAgreementOut
from app.services.annotations import agreement, overlapped_public_ids
from app.services.errors import NotFound

bp = Blueprint("annotation", __name__)


@operation(
    bp, "/projects/<project>/agreement", "GET",
    summary="Agreement on the verdict, per item and per project, and how well each kind of "
            "user feedback predicts it",
    description="`project` is the project's slug or numeric id; a key sees its own project "
                "only. Percent agreement is the share of annotator pairs that agree; "
                "Krippendorff's alpha is nominal, over annotators x items.",
    scope="items:read",
    responses={200: ("The report", AgreementOut)},
    problems=[404],
)
def get_agreement(project: str) -> Response:
    project_id = caller().project_id
    with transaction() as session:
        row = session.get_one(Project, project_id)
        if project not in (row.slug, str(row.id)):
            raise NotFound("no such project for this key")
        result = agreement(session, row)
        overlapped = [a for a in result.items if a.percent_agreement is not None]
        ids = overlapped_public_ids(session, result)
        out = AgreementOut(
            project=row.slug,
            annotations=result.annotations,
            annotators=result.annotators,
            items_annotated=result.items_annotated,
            items_with_overlap=result.items_with_overlap,
            percent_agreement=result.percent_agreement,
            krippendorff_alpha=result.krippendorff_alpha,
            items=[ItemAgreementOut(item_id=ids[a.item_id],
                                    verdicts=a.verdicts, good=a.good, bad=a.bad,
                                    percent_agreement=a.percent_agreement, majority=a.majority)
                   for a in overlapped],
            feedback=[FeedbackPredictionOut(**vars(f)) for f in result.feedback],
        )
    return respond(out)
