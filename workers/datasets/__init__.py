"""Versioned eval and fine-tune datasets built from curated items (issue 5)."""
