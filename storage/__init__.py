"""Persistence: ORM tables, repositories returning domain objects, migrations."""
