"""Rasa NLU training-data YAML: report categories are retrieval intents `report_issue/<category>`."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

REPORT = "report_issue"
# Rasa entity annotation: [3号楼](building) or [text]{"entity": "building"}
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]+\)|\{[^}]+\})")


@dataclass(frozen=True)
class Example:
    """One labelled text; `category` only for report_issue."""

    text: str
    intent: str
    category: str | None = None
    source: str = "data"


def strip_annotations(text: str) -> str:
    """Plain text of a Rasa example with entity annotations."""
    return _ANNOTATION.sub(r"\1", text)


def split_label(label: str) -> tuple[str, str | None]:
    """`report_issue/fire_safety` → (`report_issue`, `fire_safety`)."""
    intent, _, sub = label.partition("/")
    return intent, (sub or None)


def parse_nlu(text: str, source: str = "data") -> list[Example]:
    """Examples of every `intent:` block of a Rasa NLU YAML document."""
    doc = yaml.safe_load(text) or {}
    out: list[Example] = []
    for item in doc.get("nlu") or []:
        if not isinstance(item, dict) or "intent" not in item:
            continue
        intent, category = split_label(str(item["intent"]))
        for line in str(item.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                line = strip_annotations(line[2:].strip())
                if line:
                    out.append(Example(line, intent, category, source))
    return out


def load_nlu(path: Path, source: str = "data") -> list[Example]:
    """Read a Rasa NLU YAML file."""
    return parse_nlu(path.read_text(encoding="utf-8"), source)


def dump_nlu(examples: list[Example]) -> str:
    """Rasa NLU YAML for examples, grouped by label in first-seen order."""
    groups: dict[str, list[str]] = {}
    for ex in examples:
        label = f"{ex.intent}/{ex.category}" if ex.category else ex.intent
        groups.setdefault(label, [])
        if ex.text not in groups[label]:
            groups[label].append(ex.text)
    lines = ['version: "3.1"', "nlu:"]
    for label, texts in groups.items():
        lines.append(f"- intent: {label}")
        lines.append("  examples: |")
        lines += [f"    - {' '.join(t.split())}" for t in texts]
    return "\n".join(lines) + "\n"


def load_csv(path: Path) -> list[Example]:
    """CSV with columns text,intent,category (category empty for non-reports) and optionally author."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"text", "intent"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        return [
            Example(
                row["text"].strip(),
                row["intent"].strip(),
                (row.get("category") or "").strip() or None,
                (row.get("author") or "").strip() or "csv",
            )
            for row in reader
            if (row.get("text") or "").strip()
        ]


def load_any(path: Path) -> list[Example]:
    """CSV or Rasa YAML by extension."""
    return load_csv(path) if path.suffix.lower() == ".csv" else load_nlu(path)


def _named_example_lists(text: str, key: str) -> dict[str, list[str]]:
    """`{name: examples}` of every `key:` block (`regex` or `lookup`) of a Rasa NLU YAML document."""
    doc = yaml.safe_load(text) or {}
    out: dict[str, list[str]] = {}
    for item in doc.get("nlu") or []:
        if not isinstance(item, dict) or key not in item:
            continue
        entries = out.setdefault(str(item[key]), [])
        for line in str(item.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                entry = line[2:].strip()
                if entry and entry not in entries:
                    entries.append(entry)
    return out


def parse_regexes(text: str) -> dict[str, list[str]]:
    """Patterns of every `regex:` block of a Rasa NLU YAML document, by name (blocks of one name merged)."""
    return _named_example_lists(text, "regex")


def parse_lookups(text: str) -> dict[str, list[str]]:
    """Entries of every `lookup:` block of a Rasa NLU YAML document, by name (blocks of one name merged)."""
    return _named_example_lists(text, "lookup")
