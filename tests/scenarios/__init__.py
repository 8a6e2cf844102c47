"""Scripted agent behaviour on the bundled estates, for the LLM path's tests and cassettes.

Nothing here is a model. Each module builds a ``fakes.Router`` whose routes are the agents of one
audit (keyed by the first line of their system prompt), answering from what the request shows.
Anything recorded from these scripts is scripted traffic and is labelled so.

* ``homelab``: the full homelab audit (over-count, deliberate choice, refused tools, rejected
  submission, one verdict per finding, synthesis).
* ``gitops``: a smaller audit of gitops-base, which has no cluster.
* ``roles``: the challengers and the synthesizer both scenarios share.
* ``common``: reading requests, the catalog, and the FunctionModel adapter.
"""
