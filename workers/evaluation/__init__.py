"""Offline evaluations of the curation stages against public corpora."""
