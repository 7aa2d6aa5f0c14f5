"""Errors raised by services; the API turns them into problem+json, the CLI into messages."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be carried out, with a message safe to show the caller."""


class NotFound(ServiceError):
    pass


class Invalid(ServiceError):
    pass


class Conflict(ServiceError):
    """The request does not fit the resource's current state."""


class Unavailable(ServiceError):
    """A service this request needs (e.g. Label Studio) cannot be reached; nothing was done."""
