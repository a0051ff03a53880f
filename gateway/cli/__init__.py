"""The command line, one module per command group; :mod:`gateway.cli.main` parses and dispatches."""

from gateway.cli.main import build_parser, entry, main

__all__ = ["build_parser", "entry", "main"]
