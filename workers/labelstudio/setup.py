"""`winnow labelstudio setup`: create or update a Winnow project's Label Studio projects from
label_config/, and register the webhook. Idempotent: run it as often as you like."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.labelstudio import SECRET_HEADER, NotConfigured, translate
from app.models import LabelStudioProject, Project
from app.models.base import utcnow

CONFIG_DIR = Path(__file__).resolve().parents[2] / "label_config"
CONFIGS = {"review": "conversation_review.xml", "pairwise": "pairwise_preference.xml"}
TITLES = {"review": "conversation review", "pairwise": "pairwise preference"}
HOOK_PATH = "/v1/hooks/label-studio"
HOOK_ACTIONS = ["ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED"]


@dataclass(frozen=True)
class SetupResult:
    kind: str
    ls_project_id: int
    created: bool
    config_changed: bool
    webhook_id: int | None


def label_config(kind: str) -> str:
    return (CONFIG_DIR / CONFIGS[kind]).read_text(encoding="utf-8")


def hook_url(settings: Settings) -> str | None:
    if not settings.public_url:
        return None
    return settings.public_url.rstrip("/") + HOOK_PATH


def setup_project(
    session: Session, project: Project, settings: Settings, ls: Any
) -> list[SetupResult]:
    results = []
    for kind in CONFIGS:
        try:
            results.extend(_one(session, project, settings, ls, kind))
        except NotConfigured:
            raise
        except Exception as exc:  # SDK / HTTP errors: no bodies in messages
            raise translate(exc) from exc
    return results


def _one(
    session: Session, project: Project, settings: Settings, ls: Any, kind: str
) -> list[SetupResult]:
    """Every Label Studio project of this kind (the first created if there is none yet), its
    label config, options and webhook brought up to date."""
    xml = label_config(kind)
    digest = hashlib.sha256(xml.encode()).hexdigest()
    rows = projects_of(session, project.id, kind)
    if not rows:
        return [_create(session, project, settings, ls, kind, 1)]
    results = []
    for row in rows:
        changed = row.config_sha256 != digest
        update: dict[str, Any] = dict(_options(settings), title=title(project, kind, row.number))
        if changed:
            update["label_config"] = xml
        ls.projects.update(id=row.ls_project_id, **update)
        row.config_sha256 = digest
        row.webhook_id = _webhook(ls, settings, row.ls_project_id, row.webhook_id)
        row.updated_at = utcnow()
        session.flush()
        results.append(SetupResult(kind, row.ls_project_id, False, changed, row.webhook_id))
    return results


def projects_of(session: Session, project_id: int, kind: str) -> list[LabelStudioProject]:
    """A Winnow project's Label Studio projects of a kind, oldest first (the last takes new
    tasks)."""
    return list(
        session.scalars(
            select(LabelStudioProject)
            .where(LabelStudioProject.project_id == project_id, LabelStudioProject.kind == kind)
            .order_by(LabelStudioProject.number)
        )
    )


def roll_over(session: Session, project: Project, settings: Settings, ls: Any,
              kind: str) -> SetupResult:
    """The next Label Studio project of this kind, set up like the first: new tasks go there."""
    rows = projects_of(session, project.id, kind)
    try:
        return _create(session, project, settings, ls, kind, (rows[-1].number if rows else 0) + 1)
    except NotConfigured:
        raise
    except Exception as exc:  # SDK / HTTP errors: no bodies in messages
        raise translate(exc) from exc


def title(project: Project, kind: str, number: int) -> str:
    base = f"Winnow {project.slug}: {TITLES[kind]}"
    return base if number == 1 else f"{base} ({number})"


def _options(settings: Settings) -> dict[str, Any]:
    return {
        "maximum_annotations": settings.annotation_overlap,
        "show_overlap_first": True,
        "overlap_cohort_percentage": 100,
        "show_collab_predictions": True,  # the users' own feedback as a head start
    }


def _create(session: Session, project: Project, settings: Settings, ls: Any, kind: str,
            number: int) -> SetupResult:
    xml = label_config(kind)
    remote = ls.projects.create(title=title(project, kind, number), label_config=xml,
                                **_options(settings))
    row = LabelStudioProject(
        project_id=project.id, kind=kind, number=number, ls_project_id=remote.id,
        config_sha256=hashlib.sha256(xml.encode()).hexdigest(),
    )
    session.add(row)
    session.flush()
    row.webhook_id = _webhook(ls, settings, row.ls_project_id, row.webhook_id)
    row.updated_at = utcnow()
    session.flush()
    return SetupResult(kind, row.ls_project_id, True, True, row.webhook_id)


def _webhook(ls: Any, settings: Settings, ls_project_id: int, known: int | None) -> int | None:
    url = hook_url(settings)
    secret = settings.label_studio_webhook_secret
    if url is None or secret is None:
        return known  # no public URL or secret: the periodic sync alone brings annotations
    headers = {SECRET_HEADER: secret.get_secret_value()}
    spec: dict[str, Any] = {
        "url": url,
        "headers": headers,
        "actions": HOOK_ACTIONS,
        "send_payload": True,
        "send_for_all_actions": False,
        "is_active": True,
        "project": ls_project_id,
    }
    existing = [
        h for h in ls.webhooks.list(project=str(ls_project_id)) if h.project == ls_project_id
    ]
    mine = next((h for h in existing if h.id == known), None) or next(
        (h for h in existing if h.url == url), None
    )
    if mine is None:
        return int(ls.webhooks.create(**spec).id)
    del spec["project"]
    ls.webhooks.update(id=mine.id, **spec)
    return int(mine.id)
