"""Loader: validates extract files against the contract and lands them in the raw schema."""

from orchestration.ingest.files import file_checksum, inbox_files
from orchestration.ingest.inbox import load_files, load_inbox
from orchestration.ingest.ledger import LoadResult
from orchestration.ingest.load import load_file

__all__ = ["LoadResult", "file_checksum", "inbox_files", "load_file", "load_files", "load_inbox"]
