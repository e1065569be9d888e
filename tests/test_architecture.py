"""The shape of the code: no import cycles anywhere (TYPE_CHECKING included), a domain that knows no channel."""

from __future__ import annotations

import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "domain", "intents", "storage")


def test_no_import_cycles() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False, exclude_type_checking_imports=False)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            if chain:
                cycles.append(" → ".join((module, *chain)))
    assert cycles == []


# What would betray a channel in the domain: markup, Telegram's own words, chat ids, keyboards.
TELEGRAM_WORDS = re.compile(
    r"<b>|</|parse_mode|reply_markup|callback|keyboard|chat_id|force_reply|t\.me/|tg://|aiogram|telegram",
    re.IGNORECASE,
)


def test_the_domain_knows_no_channel() -> None:
    found = []
    for path in sorted((ROOT / "domain").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if TELEGRAM_WORDS.search(code):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def test_no_domain_module_is_a_kitchen_sink() -> None:
    sizes = {
        p.relative_to(ROOT): len(p.read_text(encoding="utf-8").splitlines()) for p in (ROOT / "domain").rglob("*.py")
    }
    assert {str(p): n for p, n in sizes.items() if n > 400} == {}


def test_handlers_reach_no_repository() -> None:
    # Handlers call services; repositories (ports) are the services' business.
    found = []
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found += [f"{path.name}: {m}" for m in re.findall(r"svc\.ports\.\w+|\.units\.\w+\(|\.repo\.\w+\(", text)]
    assert found == []
