"""URLs as a user may read them: never with the ``user:password@`` part a URL can carry."""

from __future__ import annotations


def without_userinfo(url: str) -> str:
    """``https://admin:pw@host:6443/x`` -> ``https://host:6443/x`` (also without a scheme)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.rsplit("@", 1)[-1]
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host.rsplit('@', 1)[-1]}{slash}{path}"
