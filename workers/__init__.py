"""Background jobs: run by `winnow worker` on RQ, or in-process in the embedded mode."""
