"""The `piramide` command (console script `piramide = orchestration.cli:main`)."""

from orchestration.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
