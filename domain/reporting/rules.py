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
    # Categories never listed to a reader without a key (a neighbour dispute names households and what happens
    # behind their doors); a keyed client (the city's hotline) reads them.
    open311_private_categories: tuple[str, ...] = ("neighbor_dispute",)
    # A reader without a key gets each point moved to the middle of a cell this wide (metres); 0 keeps exact points.
    open311_public_precision_m: float = 100.0
