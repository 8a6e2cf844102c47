"""Known token shapes under any key: detect-secrets' named-token plugins, plus the shapes it lacks.

A Slack webhook, a SendGrid key or a Telegram bot token is a secret because of what it looks like, not
because of the key it sits under (``webhook:``, ``value:``, an env entry named ``NOTIFY``). These are
found here, beside the structural passes of :mod:`tools.redact`, which only see values under a telling
key or in a telling block.

* **detect-secrets, its regexes only.** The named-token plugins (AWS, Azure storage, GitHub, GitLab,
  JWT, npm, OpenAI, PyPI, SendGrid, Slack, Stripe, Telegram, Twilio, ...) are used through their
  classes' ``denylist`` patterns, recompiled per line (``re.M``) and run over the whole text, so spans
  come back and nothing of detect-secrets' global settings, filters, baselines or network verification
  is touched (``analyze_line`` would read and cache its settings; ``analyze_string`` gives no spans).
  The module is imported on first use: it costs about 0.1 s, most of it ``requests``, which an audit
  imports anyway. Left out on purpose: the entropy plugins (``Base64HighEntropyString``,
  ``HexHighEntropyString``), which flag git SHAs and Helm checksums; ``KeywordDetector`` (the
  assignment pass does keys, with our reference rules); ``PrivateKeyDetector`` (markers only, the PEM
  pass redacts the key body); ``IPPublicDetector`` (not a secret).
* **Shapes it lacks:** Anthropic keys (``sk-ant-...``) and OpenAI project/service keys (``sk-proj-...``).
* **Long hex and base64 blobs, only in a secret-ish context:** the whole value of an assignment
  (``key: blob``, ``key = "blob"``, ``KEY=blob``, ``"key": "blob"``, ``--flag=blob``) whose key does
  not name a digest or a public thing (``sha``, ``checksum/config``, ``commit``, ``ref``, ``revision``,
  ``digest``, ``hash``, ``etag``, ``id``, ``version``, ``cert``, ``ca``...). A bare git SHA in prose, a
  ``checksum/config`` annotation, an image digest (``@sha256:...``) and a ``?ref=<sha>`` stay.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from typing import NamedTuple

from tools.redact_values import Span, fingerprint, keep_value, splice

# Gates, searched in the lower-cased text: what a plugin's match cannot do without (its keyword, or the
# run of characters its secret is made of). The keyword-assignment plugins (IBM, Cloudant, SoftLayer)
# are slow on long texts and only run on a text that passes.
_RUN44 = re.compile(r"[a-z0-9_\-]{44}")
_HEX48 = re.compile(r"[a-f0-9]{48}")
_TELEGRAM = re.compile(r":[0-9a-z_-]{35}")  # starting on a literal: the engine jumps from one ':' to the next
_DISCORD = re.compile(r"\.[a-z0-9_-]{6}\.[a-z0-9_-]{27}")
_IBM_COS = re.compile(r"secret[-_]?(?:access)?[-_]?key")
_CLOUDANT = re.compile(r"cl(?:oudant|ou)?[-_]?(?:api)?(?:key|pwd|pw|pass|token)|cloudant\.com")
_SOFTLAYER = re.compile(r"(?:softlayer|sl)[-_]?(?:api)?(?:key|pwd|pass|token)|api\.softlayer\.com")


class _Plugin(NamedTuple):
    """A named-token plugin and what its patterns cannot match without (checked first, cheaply)."""

    module: str
    cls: str
    min_len: int  # the shortest text any of its patterns can match
    literals: tuple[str, ...] = ()  # one of these is in the text, or one of ``lower`` in the lower-cased text
    lower: tuple[str, ...] = ()
    shapes: tuple[re.Pattern[str], ...] = ()  # and all of these are in the lower-cased text


_PLUGINS: tuple[_Plugin, ...] = (
    _Plugin("artifactory", "ArtifactoryDetector", 11, ("AKC", "AP")),
    _Plugin("aws", "AWSKeyDetector", 20, ("AKIA", "ASIA", "ABIA", "ACCA", "A3T"), ("aws",)),
    _Plugin("azure_storage_key", "AzureStorageKeyDetector", 99, ("AccountKey=",)),
    _Plugin("basic_auth", "BasicAuthDetector", 7, ("://",)),
    _Plugin("cloudant", "CloudantDetector", 29, (), ("cl",), (_CLOUDANT,)),
    _Plugin("discord", "DiscordBotTokenDetector", 59, shapes=(_DISCORD,)),
    _Plugin("github_token", "GitHubTokenDetector", 40, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    _Plugin("gitlab_token", "GitLabTokenDetector", 25, ("gl", "GR1348941")),
    _Plugin("ibm_cloud_iam", "IbmCloudIamDetector", 47, (), ("key", "pwd", "pass", "token"), (_RUN44,)),
    _Plugin("ibm_cos_hmac", "IbmCosHmacDetector", 57, (), ("secret",), (_IBM_COS, _HEX48)),
    _Plugin("jwt", "JwtTokenDetector", 7, ("eyJ",)),
    _Plugin("mailchimp", "MailchimpDetector", 36, ("-us",)),
    _Plugin("npm", "NpmDetector", 20, ("_authToken",)),
    _Plugin("openai", "OpenAIDetector", 51, ("T3BlbkFJ",)),
    _Plugin("pypi_token", "PypiTokenDetector", 90, ("pypi-",)),
    _Plugin("sendgrid", "SendGridDetector", 69, ("SG.",)),
    _Plugin("slack", "SlackDetector", 8, (), ("xox", "hooks.slack.com")),
    _Plugin("softlayer", "SoftlayerDetector", 69, (), ("sl",), (_SOFTLAYER,)),
    _Plugin("square_oauth", "SquareOAuthDetector", 50, ("sq0csp-",)),
    _Plugin("stripe", "StripeDetector", 32, ("k_live_",)),
    _Plugin("telegram_token", "TelegramBotTokenDetector", 44, shapes=(_TELEGRAM,)),
    _Plugin("twilio", "TwilioKeyDetector", 34, ("AC", "SK")),
)
_LEADING = " \t\r\n\"'=:"  # some patterns match the character around the token (Artifactory)
_TRAILING = " \t\r\n\"'"  # not "=": base64 padding is part of the token
_KEY_PREFIX = re.compile(r"[A-Za-z][\w-]*=(?=.)")  # AccountKey=...: the key name stays

Validator = Callable[[str], bool]


@functools.cache
def _detectors() -> tuple[tuple[_Plugin, tuple[tuple[re.Pattern[str], Validator | None], ...]], ...]:
    """The plugins' patterns, per line (``re.M``), with JWT's own validity test. Built on first use:
    importing detect-secrets costs about 0.1 s (most of it ``requests``, which an audit imports anyway)."""
    out = []
    for plugin in sorted(_PLUGINS, key=lambda p: p.min_len):  # so a short text stops early
        cls = getattr(importlib.import_module(f"detect_secrets.plugins.{plugin.module}"), plugin.cls)
        valid = getattr(cls, "is_formally_valid", None)
        out.append((plugin, tuple((re.compile(p.pattern, p.flags | re.M), valid) for p in cls.denylist)))
    return tuple(out)


def _may_match(plugin: _Plugin, text: str, lower: str, shapes: dict[re.Pattern[str], bool]) -> bool:
    if (plugin.literals or plugin.lower) and not (
        any(n in text for n in plugin.literals) or any(n in lower for n in plugin.lower)
    ):
        return False
    for shape in plugin.shapes:
        if shape not in shapes:
            shapes[shape] = shape.search(lower) is not None
        if not shapes[shape]:
            return False
    return True


_OWN_SHAPES = re.compile(
    r"(?<![\w-])sk-ant-[a-z0-9]+-[A-Za-z0-9_-]{20,}"  # Anthropic
    r"|(?<![\w-])sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}"  # OpenAI project, service and admin keys
)

# A run of 32+ characters of hex or base64 (standard or URL-safe), not part of a longer word or path.
# A run of 32+ characters of hex or base64 (standard or URL-safe) right after ``=`` or ``:`` (and a quote),
# not followed by more of a word or a path: found from the separator, which the regex engine scans for fast.
_BLOB = re.compile(r"[:=][ \t]*[\"']?(?P<v>[A-Za-z0-9+/_-]{32,}={0,2})(?![\w+/=.@-])")
_HEX = re.compile(r"[0-9a-fA-F]{32,}")
# What a blob's value position looks like: the end of ``key:``, ``key =``, ``"key": "``, ``KEY=``, ``--k=``.
_ASSIGNED = re.compile(r"(?P<key>[\w.\-/]+)[\"']?[ \t]*(?:=|:)[ \t]*[\"']?$")
# Keys that name a digest, an identifier, a version or something public: their blobs are not secrets.
_NOT_SECRET_WORDS = frozenset(
    {
        *(
            "sha",
            "sha1",
            "sha256",
            "sha512",
            "md5",
            "checksum",
            "checksums",
            "sum",
            "digest",
            "hash",
            "hashes",
        ),
        *("commit", "revision", "rev", "ref", "etag", "integrity", "fingerprint", "thumbprint", "version"),
        *("tag", "image", "id", "uid", "uuid", "guid", "lineage", "serial", "nonce", "generation"),
        *(
            "cert",
            "crt",
            "certificate",
            "ca",
            "bundle",
            "pub",
            "public",
            "publickey",
            "pubkey",
            "resourceversion",
        ),
    }
)
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def _digest_key(key: str) -> bool:
    words = {w.lower() for w in _WORD.findall(key)}
    return bool(words & _NOT_SECRET_WORDS) or key.lower().endswith("id")


def _blob_shaped(value: str) -> bool:
    core = value.rstrip("=")
    if _HEX.fullmatch(core):
        return any(c.isdigit() for c in core) and any(c.isalpha() for c in core)
    has = (any(c.isupper() for c in core), any(c.islower() for c in core), any(c.isdigit() for c in core))
    return len(core) >= 40 and all(has)


def _blob_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    for m in _BLOB.finditer(text):
        value = m["v"]
        if not _blob_shaped(value):
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        head = _ASSIGNED.search(text, line_start, m.start("v"))
        if head is None or _digest_key(head["key"]):
            continue
        spans.append((m.start("v"), m.end("v"), fingerprint(value)))
    return spans


def _match_spans(m: re.Match[str], text: str, valid: Validator | None) -> list[Span]:
    """The token(s) of a plugin's match: its groups if it has any (as ``findall`` yields), else the match
    without the delimiters some patterns include, and without a ``Key=`` name (``AccountKey=``)."""
    out: list[Span] = []
    groups = [g for g in range(1, (m.re.groups or 0) + 1) if m.group(g)]
    for start, end in [m.span(g) for g in groups] or [m.span()]:
        while start < end and text[start] in _LEADING:
            start += 1
        while end > start and text[end - 1] in _TRAILING:
            end -= 1
        named = _KEY_PREFIX.match(text, start, end)
        start = named.end() if named and not groups else start
        token = text[start:end]
        if token and not keep_value(token, quoted=True, hcl=False) and (valid is None or valid(token)):
            out.append((start, end, fingerprint(token)))
    return out


def any_of(words: list[str]) -> re.Pattern[str]:
    """A search for any of ``words``, the longest first (one pass over a text for many literals)."""
    return re.compile("|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w))))


_ANY_LITERAL = any_of([w for p in _PLUGINS for w in p.literals])
_ANY_LOWER = any_of([w for p in _PLUGINS for w in p.lower])


@functools.cache
def _shape_only() -> tuple[tuple[_Plugin, tuple[tuple[re.Pattern[str], Validator | None], ...]], ...]:
    """The plugins ``_may_match`` lets through on their shapes alone (no literal to look for), in order."""
    return tuple((p, patterns) for p, patterns in _detectors() if not (p.literals or p.lower))


def _token_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    shapes: dict[re.Pattern[str], bool] = {}
    lower = text.lower()
    # One search for every plugin's literals, not one per plugin: a text with none of them (a name, a
    # path, a reference: most of what is redacted) can only match the plugins that have none. Same
    # spans; 43k such texts in the checks of a 10k-pod cluster (issue 13).
    literal = _ANY_LITERAL.search(text) is not None or _ANY_LOWER.search(lower) is not None
    for plugin, patterns in _detectors() if literal else _shape_only():
        if len(text) < plugin.min_len:
            break
        if _may_match(plugin, text, lower, shapes):
            spans += [
                s
                for regex, valid in patterns
                for m in regex.finditer(text)
                for s in _match_spans(m, text, valid)
            ]
    if "sk-" in text:
        spans += [(m.start(), m.end(), fingerprint(m.group(0))) for m in _OWN_SHAPES.finditer(text)]
    return spans


def _merge(spans: list[Span]) -> list[Span]:
    """Sorted, and a span inside (or overlapping) an earlier, longer one dropped."""
    spans.sort(key=lambda s: (s[0], -s[1]))
    out: list[Span] = []
    for span in spans:
        if out and span[0] < out[-1][1]:
            continue
        out.append(span)
    return out


def redact_tokens(text: str, blobs: bool = True) -> str:
    """Fingerprint known token shapes anywhere, and long hex/base64 blobs assigned to a neutral key."""
    spans = _token_spans(text) + (_blob_spans(text) if blobs and len(text) >= 32 else [])
    return splice(text, _merge(spans)) if spans else text
