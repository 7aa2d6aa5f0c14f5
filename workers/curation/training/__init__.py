"""Scripts that build the curation models from data in the repo and the shared sets."""
