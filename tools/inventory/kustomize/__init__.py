"""Kustomize builds in Python: the subset GitOps repos use, with the source of every built value.

``engine.build_kustomization`` builds one kustomization directory (resources, components, generators,
then the transformers in kustomize's order); ``patches``, ``transforms`` and ``generators`` hold the
steps; ``substitute`` is Flux's ``postBuild`` substitution; ``appset`` expands Argo CD
ApplicationSets. Anything a kustomization asks for that is not built here is a note of the build,
never guessed; a build that fails raises ``KustomizeError`` and its files are read one by one.
"""
