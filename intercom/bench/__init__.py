"""Benchmarks: figures measured against a baseline in the same run."""

from __future__ import annotations


def format_table(rows: list[tuple[str, str, str]]) -> str:
    """``measure  result  [target]``, one row a line, the first column aligned."""
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{'measure'.ljust(width)}  result  [target]"]
    lines += [f"{name.ljust(width)}  {value}  [{target}]" for name, value, target in rows]
    return "\n".join(lines)
