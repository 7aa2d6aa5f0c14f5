"""Annotation in Label Studio: project set-up, pushing accepted items as tasks, and bringing
the annotations back (webhook and periodic sync)."""
