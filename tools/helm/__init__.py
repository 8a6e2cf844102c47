"""Helm releases rendered by the Helm engine: engine.py (the SDK, lazily), cache.py and fetch.py (where
charts come from), sources.py (where releases come from), values.py (merging), render.py (the phase)."""
