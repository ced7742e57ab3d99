"""Handlers of the engine service's requests, one per file (see engine.service.requests)."""
