"""`winnow keys`, `winnow projects`, `winnow schemas`: administration from the shell."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.cli.common import database, fail


@click.group()
def keys() -> None:
    """API keys: create (shown once), list, revoke; and new encryption keys."""


@keys.command("create")
@click.option("--project", "slug", required=True, help="Project slug.")
@click.option("--name", default="cli", show_default=True, help="A label to recognise the key.")
@click.option("--scope", "scopes", multiple=True,
              help="Repeatable: events:write, events:read, items:read, items:review, "
              "datasets:read, datasets:write, admin [default: events:write and "
              "events:read].")
@click.option("--rate-limit", default=None, help="Override WINNOW_RATE_LIMIT, e.g. '50/second'.")
@with_appcontext
def keys_create(slug: str, name: str, scopes: tuple[str, ...], rate_limit: str | None) -> None:
    """Create a key and print it; only its hash is stored."""
    from app.services.errors import ServiceError
    from app.services.keys import DEFAULT_SCOPES, create_key
    from app.services.projects import get_project

    try:
        with database().session() as session:
            issued = create_key(session, get_project(session, slug), name,
                                scopes or DEFAULT_SCOPES, rate_limit)
    except ServiceError as exc:
        fail(str(exc))
    click.echo(issued.token)


@keys.command("list")
@click.option("--project", "slug", required=True)
@with_appcontext
def keys_list(slug: str) -> None:
    """List a project's keys by prefix (secrets are never shown again)."""
    from app.services.errors import ServiceError
    from app.services.keys import list_keys
    from app.services.projects import get_project

    try:
        with database().session() as session:
            rows = list_keys(session, get_project(session, slug))
    except ServiceError as exc:
        fail(str(exc))
    click.echo(f"{'PREFIX':14} {'NAME':20} {'SCOPES':45} {'CREATED':20} STATE")
    for k in rows:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        click.echo(f"{k.prefix:14} {k.name[:20]:20} {','.join(k.scopes):45} "
                   f"{k.created_at:%Y-%m-%d %H:%M:%S}  {state}")


@keys.command("revoke")
@click.argument("prefix")
@with_appcontext
def keys_revoke(prefix: str) -> None:
    """Revoke the key with PREFIX (the part after 'wn_'); takes effect at once."""
    from app.services.errors import ServiceError
    from app.services.keys import revoke_key

    try:
        with database().session() as session:
            revoke_key(session, prefix)
    except ServiceError as exc:
        fail(str(exc))
    click.echo(f"revoked {prefix}")


@click.group()
def projects() -> None:
    """Projects (tenants)."""


@projects.command("create")
@click.argument("slug")
@click.option("--name", default=None)
@with_appcontext
def projects_create(slug: str, name: str | None) -> None:
    """Create a project."""
    from app.services.errors import ServiceError
    from app.services.projects import create_project

    try:
        with database().session() as session:
            create_project(session, slug, name)
    except ServiceError as exc:
        fail(str(exc))
    click.echo(f"created project {slug}")


@projects.command("list")
@with_appcontext
def projects_list() -> None:
    """List projects."""
    from app.services.projects import list_projects

    with database().session() as session:
        for p in list_projects(session):
            click.echo(f"{p.slug:30} {p.name}")


@click.group()
def schemas() -> None:
    """JSON Schemas of the public payloads, kept in schemas/."""


@schemas.command("write")
@click.option("--dir", "directory", default="schemas", show_default=True,
              type=click.Path(file_okay=False))
@click.option("--check", is_flag=True, help="Write nothing; fail if a file differs.")
def schemas_write(directory: str, check: bool) -> None:
    """Generate the schemas from the pydantic models (never edit them by hand)."""
    from app.payloads.registry import write_schemas

    changed = write_schemas(directory, check=check)
    if check and changed:
        fail(f"schemas out of date: {', '.join(changed)}; run `winnow schemas write`")
    click.echo("schemas up to date" if not changed else f"wrote {len(changed)} schema(s)")
