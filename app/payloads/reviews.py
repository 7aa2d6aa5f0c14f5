"""A human decision on a curation item, as the item's history shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

ReviewAction = Literal["release", "reject", "split", "confirm"]


class ReviewOut(BaseModel):
    action: ReviewAction = Field(
        description="release: to accepted; reject: to rejected_prank; split: a duplicate becomes "
        "its own item; confirm: the machine's decision stands (state unchanged).")
    from_state: str
    to_state: str
    by: str = Field(description="`key:<prefix>` of the API key, or `cli:<login>`.")
    at: datetime
    note: str | None = None
    duplicate_of: str | None = Field(
        default=None, description="A split: the item it had been merged into.")
