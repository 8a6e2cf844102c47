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

from tools.redact_values import Span, fingerprint, keep_value, splice

# (module, class, needles): the plugin runs only if one lower-case needle is in the lower-cased text.
_PLUGINS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("artifactory", "ArtifactoryDetector", ("akc", "ap")),
    ("aws", "AWSKeyDetector", ("akia", "asia", "abia", "acca", "a3t", "aws")),
    ("azure_storage_key", "AzureStorageKeyDetector", ("accountkey=",)),
    ("basic_auth", "BasicAuthDetector", ("@",)),
    ("cloudant", "CloudantDetector", ("cl",)),
    ("discord", "DiscordBotTokenDetector", (".",)),
    ("github_token", "GitHubTokenDetector", ("gh",)),
    ("gitlab_token", "GitLabTokenDetector", ("gl", "gr1348941")),
    ("ibm_cloud_iam", "IbmCloudIamDetector", ("key", "pwd", "pass", "token")),
    ("ibm_cos_hmac", "IbmCosHmacDetector", ("secret",)),
    ("jwt", "JwtTokenDetector", ("eyj",)),
    ("mailchimp", "MailchimpDetector", ("-us",)),
    ("npm", "NpmDetector", ("_authtoken",)),
    ("openai", "OpenAIDetector", ("t3blbkfj",)),
    ("pypi_token", "PypiTokenDetector", ("pypi-",)),
    ("sendgrid", "SendGridDetector", ("sg.",)),
    ("slack", "SlackDetector", ("xox", "hooks.slack.com")),
    ("softlayer", "SoftlayerDetector", ("sl",)),
    ("square_oauth", "SquareOAuthDetector", ("sq0csp-",)),
    ("stripe", "StripeDetector", ("k_live_",)),
    ("telegram_token", "TelegramBotTokenDetector", (":",)),
    ("twilio", "TwilioKeyDetector", ("ac", "sk")),
)
_LEADING = " \t\r\n\"'=:"  # some patterns match the character around the token (Artifactory)
_TRAILING = " \t\r\n\"'"  # not "=": base64 padding is part of the token
_KEY_PREFIX = re.compile(r"[A-Za-z][\w-]*=(?=.)")  # AccountKey=...: the key name stays

Validator = Callable[[str], bool]


@functools.cache
def _detectors() -> tuple[tuple[tuple[str, ...], re.Pattern[str], Validator | None], ...]:
    """The plugins' patterns, per line (``re.M``), with JWT's own validity test. Built on first use."""
    out = []
    for module, name, needles in _PLUGINS:
        cls = getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)
        valid = getattr(cls, "is_formally_valid", None)
        for pattern in cls.denylist:
            out.append((needles, re.compile(pattern.pattern, pattern.flags | re.M), valid))
    return tuple(out)


_OWN_SHAPES = re.compile(
    r"(?<![\w-])sk-ant-[a-z0-9]+-[A-Za-z0-9_-]{20,}"  # Anthropic
    r"|(?<![\w-])sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}"  # OpenAI project, service and admin keys
)

# A run of 32+ characters of hex or base64 (standard or URL-safe), not part of a longer word or path.
_BLOB = re.compile(r"(?<![\w+/.@-])(?:[A-Za-z0-9+/_-]{32,}={0,2})(?![\w+/=.@-])")
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
        value = m.group(0)
        if not _blob_shaped(value):
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        head = _ASSIGNED.search(text, line_start, m.start())
        if head is None or _digest_key(head["key"]):
            continue
        spans.append((m.start(), m.end(), fingerprint(value)))
    return spans


def _token_spans(text: str, lower: str) -> list[Span]:
    spans: list[Span] = []
    for needles, regex, valid in _detectors():
        if not any(n in lower for n in needles):
            continue
        for m in regex.finditer(text):
            groups = [g for g in range(1, (m.re.groups or 0) + 1) if m.group(g)]
            for start, end in [m.span(g) for g in groups] or [m.span()]:
                while start < end and text[start] in _LEADING:
                    start += 1
                while end > start and text[end - 1] in _TRAILING:
                    end -= 1
                named = _KEY_PREFIX.match(text, start, end)
                start = named.end() if named and not groups else start
                token = text[start:end]
                if (
                    token
                    and not keep_value(token, quoted=True, hcl=False)
                    and (valid is None or valid(token))
                ):
                    spans.append((start, end, fingerprint(token)))
    if "sk-" in lower:
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


def redact_tokens(text: str) -> str:
    """Fingerprint known token shapes anywhere, and long hex/base64 blobs assigned to a neutral key."""
    spans = _token_spans(text, text.lower()) + _blob_spans(text)
    return splice(text, _merge(spans)) if spans else text
