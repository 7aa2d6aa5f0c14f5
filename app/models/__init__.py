"""SQLAlchemy tables only; behaviour lives in app.services."""

from app.models.annotation import Annotation, LabelStudioProject
from app.models.base import Base
from app.models.console import ConsoleSession
from app.models.dataset import Dataset, DatasetGroup, DatasetVersion, Erasure
from app.models.event import Event
from app.models.generation import Generation
from app.models.item import Item
from app.models.project import ApiKey, Project
from app.models.review import Review
from app.models.rollup import FeedbackRollup, RollupDirty, RollupMark
from app.models.sample import SampleVerdict

__all__ = [
    "Annotation",
    "ApiKey",
    "Base",
    "ConsoleSession",
    "Dataset",
    "DatasetGroup",
    "DatasetVersion",
    "Erasure",
    "Event",
    "FeedbackRollup",
    "Generation",
    "Item",
    "LabelStudioProject",
    "Project",
    "Review",
    "RollupDirty",
    "RollupMark",
    "SampleVerdict",
]
