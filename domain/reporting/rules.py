"""Reporting's tunables (settings override them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportingRules:
    """How other systems may use the cases."""

    # POSTed requests a minute per API client (a runaway client must not flood a grid's group).
    open311_per_minute: int = 30
    # Reading requests without a key, as most GeoReport servers allow (descriptions are masked, reporters hidden).
    open311_public_reads: bool = True
