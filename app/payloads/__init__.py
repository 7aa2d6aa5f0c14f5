"""Pydantic models of every public payload; schemas/ is generated from these."""
