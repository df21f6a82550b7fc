"""Loader: validates extract files against the contract and lands them in the raw schema."""

from orchestration.ingest.loader import LoadResult, load_file, load_inbox

__all__ = ["LoadResult", "load_file", "load_inbox"]
