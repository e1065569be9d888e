"""The service files and container file name commands that exist, and ship every package."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
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


def test_the_package_a_container_installs_works_without_the_source_tree(tmp_path: Path) -> None:
    # What `pip install .` puts in the image, run with the project's own folders out of reach: every data file
    # (training data, calibration, templates, locales, migrations, the demo district) must be inside the package.
    root = DEPLOY.parent
    stage = tmp_path / "stage"
    stage.mkdir()
    copied = re.findall(
        r"^COPY (.+) \./$|^COPY (\w+) \2$", (DEPLOY / "Containerfile").read_text(encoding="utf-8"), re.M
    )
    for files, package in copied:
        for name in files.split() if files else [package]:
            src = root / name
            if src.is_dir():
                shutil.copytree(src, stage / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(src, stage / name)
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(stage)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-2000:]
    target = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), *wheels.glob("*.whl")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-2000:]
    # -S: no site-packages .pth files (the development install's path to the source tree); dependencies come
    # from the venv's site-packages, listed after the installed package.
    deps = next(p for p in sys.path if p.endswith("site-packages"))
    env = {"PYTHONPATH": f"{target}:{deps}", "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
           "GRIDBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}",
           "GRIDBOT_CACHE_DIR": str(tmp_path / "cache")}  # fmt: skip
    probe = (
        "import bot, desk.console.app as c, intents.model as m, domain.kernel.i18n as i;"
        "print(bot.__file__); print(len(m.shipped_examples())); print(sorted(p.name for p in c.TEMPLATES.iterdir()))"
    )
    out = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    where, examples, templates = out.stdout.splitlines()
    assert where.startswith(str(target))
    from intents.model import shipped_examples

    assert int(examples) == len(shipped_examples())
    assert "ledger.html" in templates and "base.html" in templates
    for argv in (["--version"], ["db", "upgrade"], ["grids", "import", str(target / "bot/demo/district.geojson")]):
        run = subprocess.run([sys.executable, "-S", "-m", "bot", *argv], capture_output=True, text=True,
                             cwd=tmp_path, env=env, timeout=300)  # fmt: skip
        assert run.returncode == 0, (argv, run.stdout[-1000:], run.stderr[-2000:])
