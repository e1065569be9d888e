"""`gridbot nlu export`: labelled examples from the database as Rasa NLU YAML."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from intents.rasa import Example, dump_nlu
from storage.cases import ExampleRepo
from storage.db import session_factory
from storage.migrate import migrated_engine


async def export_examples(database_url: str) -> tuple[str, int]:
    """(YAML text, number of examples) of every answered clarification and correction."""
    engine = await migrated_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            rows = await ExampleRepo(session, lambda: datetime.now(UTC)).answered()
    finally:
        await engine.dispose()
    examples = [Example(r.text, r.intent or "", r.category, r.source) for r in rows]
    sources = Counter(r.source for r in rows)
    header = (
        f"# {len(rows)} examples labelled by people in the bot ("
        + ", ".join(f"{n} {src}" for src, n in sorted(sources.items()))
        + ").\n# Review each line; delete what is wrong, then save into GRIDBOT_NLU_EXTRA_DIR and run"
        " `gridbot nlu train`.\n"
    )
    return header + dump_nlu(examples), len(rows)
