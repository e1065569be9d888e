"""Composition root: configuration, CLI, app factory, middlewares, the outbox sender."""
