"""Curation stages: each a small pure module (pii, dedupe, pranks) run in order by pipeline."""
