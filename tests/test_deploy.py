"""The service files and container file name commands that exist, and ship every package."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def commands() -> list[list[str]]:
    """Every gridbot command line the deploy files run or tell an operator to run."""
    out = []
    for path in DEPLOY.iterdir():
        for line in path.read_text(encoding="utf-8").splitlines():
            found = re.search(r"(?:^Exec\w*=|CMD \[|command\s+)(.*gridbot[^\]]*)", line)
            if not found:
                continue
            raw = found.group(1)
            if raw.startswith('"'):
                words = [w.strip('" ') for w in raw.split(",")]
            else:
                words = shlex.split(raw)
            at = next(i for i, w in enumerate(words) if w.endswith("gridbot"))
            out.append(words[at + 1 :])
    return out


@pytest.mark.parametrize("argv", commands(), ids=lambda a: " ".join(a))
def test_every_command_exists_with_its_options(argv: list[str]) -> None:
    result = CliRunner().invoke(app, [*argv, "--help"])
    assert result.exit_code == 0, result.output


def test_the_commands_found_are_the_ones_meant() -> None:
    found = [" ".join(a) for a in commands()]
    assert "run" in found and "db upgrade" in found and "web --host 127.0.0.1 --port 8081" in found
    assert "run --web 0.0.0.0:8081" in found


def test_the_container_ships_every_package() -> None:
    pyproject = (DEPLOY.parent / "pyproject.toml").read_text(encoding="utf-8")
    packages = re.findall(r'"(\w+)\*"', re.search(r"include = \[(.*?)\]", pyproject).group(1))  # type: ignore[union-attr]
    copied = re.findall(r"^COPY (\w+) \1$", (DEPLOY / "Containerfile").read_text(encoding="utf-8"), re.M)
    assert sorted(copied) == sorted(packages)
