"""Secrets in untrusted log data: which keys name one, and where one sits inside text. Pure, stdlib only.

Every string an MCP server sends (notification ``data``, FastMCP ``extra``, stderr lines) may
carry a secret by accident. ``RedactionRules`` decides; the conversion walk calls it:

* ``rules.is_secret_key(key)`` -> bool: the value under this mapping key becomes ``[REDACTED]``.
* ``rules.secret_pair_slot(container)`` -> 1, ``"value"``, ``"Value"`` or None: which item of a
  name/value pair to replace (call it for lists, tuples and mappings of length 2).
* ``rules.redact_text(text)`` -> str: the text with each secret part replaced, or ``text``
  itself (the same object) when nothing was found.

The rules, each named for ``disabled`` and ``MCP_OTEL_REDACT_DISABLE`` (caught / not caught are
rows of tests/test_redaction.py):

``secret-key-names``
    A key whose last word is a secret word (listed below). camelCase, acronyms and ``- _ . / :``
    and blanks split words; up to three trailing form words (hash value b64 header string ...)
    and numbers are skipped.
    Caught: password DB_PASSWORD db.password userPassword pgpassword passwd pwd client_secret
    clientSecret aws_secret_access_key AWSSecretAccessKey access_token accessToken id_token
    x-auth-token X-Api-Key apikey authorization auth Proxy-Authorization Set-Cookie credentials
    private_key ssh-private-key passphrase bearer signature db_pass password_hash api_key_v2.
    Not caught: max_tokens input_tokens token_count tokens tokenizer author authority authored_by
    public_key cache_key primary_key key keyboard monkey passenger compass bypass secretary
    signed_at cookie_consent session_id progressToken nextPageToken token_type
    authorization_endpoint client_secret_expires_at private_key_id OLDPWD.
``name-value-pairs``
    ``[name, value]`` or ``(name, value)``, and mappings with exactly name/value, key/value,
    Name/Value or Key/Value: the value, when the name passes secret-key-names.
    Caught: ``["Authorization", "Bearer x"]``, ``{"name": "DB_PASSWORD", "value": ...}``.
    Not caught: ``{"name": "user", "value": ...}``, three-item lists. Also caught: any two-item
    list whose first item is a secret word (``["token", "usage"]``).
``key-value-text``
    In text: ``key=value``, ``key: value``, ``key => value``, ``"key": "value"``, ``'key': 'value'``,
    ``key="value"``, ``--key value``, where the key (up to three blank-separated words: "API
    key") passes secret-key-names. The value: a quoted string's content; else up to a blank,
    quote, ``& ; , ] }`` or backslash; for Authorization and Cookie keys, and values that start
    with an auth scheme (Bearer, Basic, Token ...), the rest of the line.
    Caught: ``password=hunter2``, ``"client_secret": "xyz"``, ``?token=abc&x=1`` (keeps ``x=1``),
    ``api key: abc``, ``--password hunter2``, ``Authorization: Bearer x`` and ``Cookie: a=1; b=2``
    (the whole value), ``Server=db;Password=x;``.
    Not caught: ``max_tokens=512``, ``author=ana``, ``public_key=...``, ``key: value``,
    ``password=null``, ``password=""``.
``auth-scheme``
    ``Bearer``, ``BEARER``, ``Basic``, ``BASIC`` then a credential of 8+ characters that is not
    an ordinary word (it has a digit, one of ``+ / = _ ~``, or mixed case).
    Caught: ``Bearer abc123def456``, ``Basic dXNlcjpwYXNz``.
    Not caught: "the Bearer of bad news", "Basic Authentication", "basic idea", and lower-case
    ``bearer x`` outside a key (see the limits).
``url-credentials``
    ``scheme://user:password@host``: the password, up to the last ``@`` before the host.
    Caught: ``postgres://u:p@h/db``, ``redis://:pw@h``, ``amqp://u:p@h``.
    Not caught: ``https://user@host``, ``https://host:8443/a?b=c``.
``private-key-block``
    The body of ``-----BEGIN ... PRIVATE KEY-----`` (RSA, EC, OPENSSH, ENCRYPTED, PGP ... BLOCK),
    up to ``-----END`` or the end of a cut-short text. Not caught: PUBLIC KEY, CERTIFICATE.
Token formats, each a whole word (``xAKIA...`` is not caught):
    ``aws-access-key-id``  AKIA or ASIA + 16 upper-case letters or digits
    ``github-token``       ghp_ gho_ ghu_ ghs_ ghr_ + 36+ letters or digits; github_pat_ + 22+
    ``gitlab-token``       glpat- + 20+
    ``jwt``                eyJ<5+>.eyJ<5+>.<signature> (not one part alone)
    ``sk-api-key``         sk- + 20+ letters, digits, ``- _`` with a digit (OpenAI sk-proj-,
                           Anthropic sk-ant-, ...); not task-list, risk-free, disk-usage, sk-learn
    ``slack-token``        xoxa- xoxb- xoxo- xoxp- xoxr- xoxs- + 10+
    ``slack-webhook``      https://hooks.slack.com/services/<path>: the path
    ``google-api-key``     AIza + 35 letters, digits, ``- _``
    ``stripe-key``         sk_live_ rk_live_ sk_test_ rk_test_ + 10+ (not pk_live_, publishable)
    ``huggingface-token``  hf_ + 34 letters (not hf_model_name)
    ``npm-token``          npm_ + 36 letters or digits (not npm_config_cache)
    ``pypi-token``         pypi-AgEIcHlwaS5vcmc + 50+

Never redacted (no rule matches them): timestamps, UUIDs, hex hashes (git SHAs), numbers,
ordinary URLs, e-mail addresses, words like ``task-list``.

Secret words (secret-key-names): the last word of the key, after skipping form words, is one of
password(s) passwd pwd pass passphrase passcode secret(s) credential(s) creds cred cookie(s)
authorization auth bearer jwt signature sig verifier; or ``token``, unless after page next prev
continuation pagination cursor sync resume progress cancel(lation) idempotency max min num total
input output prompt completion reasoning cached used remaining first last stop start end or an
LLM special token (eos bos pad unk sep cls mask special); or ``tokens`` after access refresh auth
api bearer session oauth security id csrf personal; or ``key(s)`` after access account admin aes
api app auth client crypto cipher decryption deploy encryption functions gpg hmac ingest jwt
license master pgp private role secret server shared signing ssh storage subscription webhook.
One unseparated word may end in password passwd passphrase passcode secret(s) credential(s)
cookie(s) authorization token or <one of those key words>key(s): pgpassword, authtoken, xapikey.

Decisions on ambiguous names (each is a row of tests/test_redaction.py):

* ``key`` alone: not a secret -- in logs it is a cache key, an S3 object key, a map key; a
  secret value there is still caught by the text rules if it has a known format.
* ``auth``: a secret (as a key it holds credentials: ``{"auth": "user:pw"}``, ``basic_auth``);
  ``author``, ``authority``, ``authenticated``, ``oauth``, ``auth_type``, ``auth_url`` are not.
* ``pass``: a secret as a key's last word (``db_pass``, ``smtp_pass``); ``bypass``, ``compass``,
  ``passenger``, ``pass_rate`` are not. Cost: ``first_pass: true`` is redacted too.
* ``pwd``: a secret (``MYSQL_PWD``, ``Pwd=`` in connection strings), so the shell's ``PWD`` (a
  directory) is redacted too; ``OLDPWD`` is not.
* Session ids (``session_id``, ``sid``, ``Mcp-Session-Id``): not secrets. MCP forbids using a
  session for authentication, and this package exports ``mcp.session.id`` itself; add
  ``MCP_OTEL_REDACT_KEYS=session_id`` to redact them. So is Django's ``session_key`` (the same
  id); ``session_token`` and ``session_cookie`` are secrets.
* ``secretary``, ``signed_at``, ``cookie_consent``, ``password_policy``, ``secret_name``,
  ``token_type``: not secrets (the last word decides). ``signature``, ``x-hub-signature-256``,
  ``sig`` (Azure SAS) are.
* ``aws_access_key_id``, ``private_key_id``, ``api_key_id``: identifiers, not secrets; an AWS
  key id in a value is still caught by aws-access-key-id.
* ``--password hunter2``: caught (command lines reach stderr); ``-p hunter2`` is not (too many
  single-letter options mean something else).

Limits: this guards against accidental leaks, not a server that wants to smuggle a secret out
(base64 it, split it, or spell the key ``p.a.s.s`` and nothing here can know). Keys are judged
on ASCII letters and digits (``ＰＡＳＳＷＯＲＤ`` is not a secret word); the last 128 characters
of a key are examined; unquoted values in text end at a blank, quote, ``& ; , ] }`` or
backslash, so a password holding one of those leaks its tail; lower-case ``bearer x`` is caught
only after a key (``token: bearer x``), as a lower-case ``b`` is in every English sentence and
a pass over text costs ~1 us per 2 KB. Redaction is idempotent: ``[REDACTED]`` is never
replaced again.

Configuration (``rules_from_environment``):

=========================  ===================================================================
``MCP_OTEL_REDACT_KEYS``   comma-separated extra secret words or phrases (``ssn,session_id``);
                           a key matches when its words contain the phrase's words in a row
                           (``user_ssn``, ``mcp-session-id``); also used in key=value text
``MCP_OTEL_REDACT_         extra regular expressions, one per line (a newline never needs to
PATTERNS``                 appear literally in a pattern, and commas, semicolons and bars
                           often do); blank lines are skipped, each line is stripped. The match,
                           or group 1 when it took part, is replaced. A pattern that does not
                           compile or matches the empty string is an error naming its line.
                           Each pattern is one more pass over every string: keep them simple.
``MCP_OTEL_REDACT_         comma-separated rule names to turn off, or ``all`` (extra words and
DISABLE``                  patterns still apply)
=========================  ===================================================================

Cost per call (CPython 3.11, ``bench/bench_redaction.py``, medians; the raw SDK ``Logger.emit``
measured ~8 us on the same machine): ``is_secret_key`` 0.06 us for a key seen before (a memo of up
to 4,096 keys of up to 64 characters; past it, ~2 us a call and no more memory), ~2 us for a new
key. ``redact_text``: 0.09 us for letters and digits alone ("Lisbon"); 0.3-0.9 us for a short
id, a UUID or a log sentence; 2 KB of English 2.1 us, or 5.0 us when it has a colon (the
key=value pass); 2 KB of JSON 22 us (~0.15 us per key); 100 KB of prose and log lines 4.8 us per
KB. Linear in length: 1 MB of repeated near-matches takes 5-310 ms.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Union

from mcp_otel.errors import ConfigurationError

__all__ = [
    "DEFAULT_RULES",
    "NO_REDACTION",
    "REDACTION_MARKER",
    "RULE_NAMES",
    "RedactionRules",
    "rules_from_environment",
]

REDACTION_MARKER = "[REDACTED]"

# ---------------------------------------------------------------------------------------------
# Rule 1: secret key names.

_MAX_KEY_CHARS = 128  # characters of a key examined (its tail: the head word comes last)
_MAX_MEMO_ENTRIES = 4_096  # a server sending endless new keys only loses the memo
_MAX_MEMO_KEY_CHARS = 64  # so the memo holds at most 256 KiB of keys

# Words of a key: "XApiKey" -> X, Api, Key; "AWSSecretAccessKey" -> AWS, Secret, Access, Key;
# anything that is not an ASCII letter or digit separates words.
_KEY_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")

# A key's last word (its head, as in English compounds: "db_password" is a password,
# "password_policy" a policy) decides. These heads hold a secret whatever comes before them.
_SECRET_HEADS = frozenset(
    {
        "password", "passwords", "passwd", "pwd", "pass", "passphrase", "passcode",
        "secret", "secrets",
        "credential", "credentials", "creds", "cred",
        "cookie", "cookies",
        "authorization", "auth",
        "bearer", "jwt", "signature", "sig", "verifier",
    }
)  # fmt: skip
# "token" is a secret unless the word before makes it a pagination cursor, an MCP progress
# token or an LLM token count/special token.
_TOKEN_NOT_SECRET_AFTER = frozenset(
    {
        "page", "next", "prev", "previous", "continuation", "pagination", "cursor", "sync", "resume",
        "progress", "cancel", "cancellation", "idempotency",
        "max", "min", "num", "total", "input", "output", "prompt", "completion", "reasoning", "cached",
        "used", "remaining", "first", "last", "eos", "bos", "pad", "unk", "sep", "cls", "mask", "special",
        "stop", "start", "end",
    }
)  # fmt: skip
# "tokens" (plural) is usually a count ("max_tokens"); a secret only after these words.
_TOKENS_SECRET_AFTER = frozenset(
    {"access", "refresh", "auth", "api", "bearer", "session", "oauth", "security", "id", "csrf", "personal"}
)
# "key" alone is usually a cache, map or object key; a secret only after these words.
_KEY_SECRET_AFTER = (
    "access", "account", "admin", "aes", "api", "app", "auth", "client", "crypto", "cipher", "decryption",
    "deploy", "encryption", "functions", "gpg", "hmac", "ingest", "jwt", "license", "master", "pgp",
    "private", "role", "secret", "server", "shared", "signing", "ssh", "storage", "subscription",
    "webhook",
)  # fmt: skip
_KEY_SECRET_AFTER_SET = frozenset(_KEY_SECRET_AFTER)
# Trailing words that describe a secret's form, not another thing: "password_hash",
# "api_key_b64", "token_value", "auth_header", "password2", "api_key_v2".
_FORM_WORDS = frozenset(
    {
        "value", "val", "hash", "hashed", "digest", "confirmation", "confirm", "again", "repeat",
        "b64", "base64", "encoded", "enc", "encrypted", "plain", "plaintext", "raw", "str", "string",
        "text", "data", "bytes", "hex", "pem", "der", "header", "content", "contents", "v",
    }
)  # fmt: skip
# Heads found at the end of one unseparated word ("pgpassword", "authtoken", "xapikey").
# Not "pass", "pwd", "auth", "sig" (bypass, compass, oldpwd, oauth, design) nor "tokens".
_JOINED_HEADS = (
    "password", "passwd", "passphrase", "passcode", "secrets", "secret", "credentials", "credential",
    "cookies", "cookie", "authorization", "token", "keys", "key",
)  # fmt: skip


def _head_is_secret(head: str, before: str, joined: bool) -> bool:
    """Whether a key whose last word is ``head``, after the word ``before``, names a secret.

    ``joined``: ``before`` is the rest of the same unseparated word ("xapi" of "xapikey").
    """
    if head in _SECRET_HEADS:
        return True
    if head == "token":
        return before not in _TOKEN_NOT_SECRET_AFTER
    if head == "tokens":
        return before in _TOKENS_SECRET_AFTER
    if head == "key" or head == "keys":
        return before.endswith(_KEY_SECRET_AFTER) if joined else before in _KEY_SECRET_AFTER_SET
    if not joined:
        for tail in _JOINED_HEADS:
            if head.endswith(tail) and len(head) > len(tail):
                return _head_is_secret(tail, head[: -len(tail)], True)
    return False


def _words_name_a_secret(words: list[str]) -> bool:
    end = len(words)
    # Drop up to three trailing form words or numbers ("api_key_b64_v2").
    for _ in range(3):
        if end > 1 and (words[end - 1] in _FORM_WORDS or words[end - 1].isdigit()):
            end -= 1
        else:
            break
    if end == 0:
        return False
    return _head_is_secret(words[end - 1], words[end - 2] if end >= 2 else "", False)


def _key_words(key: str) -> list[str]:
    return [word.lower() for word in _KEY_WORD.findall(key[-_MAX_KEY_CHARS:])]


def _phrase(words: Iterable[str]) -> str:
    """Words joined for a containment test that respects word boundaries: " a b "."""
    return " " + " ".join(words) + " "


# ---------------------------------------------------------------------------------------------
# Rules 3 and on: secrets inside text.
#
# Cost model (CPython 3.11, measured in bench/bench_redaction.py): `char in text` runs at
# memchr speed (~30 ns for 2 KB); a pass of a regular expression costs ~0.5 ns per character when
# the pattern starts with one literal, ~3-9 ns when it starts with a choice of characters, and a
# dozen letter-led alternatives cost ~20 us per 2 KB of English. So:
# * each rule starts with a literal that is rare in prose ("-", "_", "://", "J", "A", "B"),
#   rules that share it share one pass, and the pass runs only when the literal is in the text;
# * key=value text is found from its separator in the text lower-cased and read backwards, where
#   the key follows the separator, so that pass starts with a literal too;
# * in a long text, occurrences that are sparse (the n-th at least n * 512 characters in) are
#   tried one by one, and one pass covers the rest; a short text gets one search for any rule
#   first, as the calls that run the rules cost more than the search;
# * a candidate is judged in Python (key name, shape, case); only its secret part is replaced.

Span = tuple[int, int, str]  # start, end, replacement
# A judge gets the rules, the text and a candidate's start and end; it returns what to replace.
_Judge = Callable[["RedactionRules", str, int, int], "Span | None"]

_KEY_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
# Literals that start the secret words of rule 1, lower-cased (a key in text is judged by rule 1).
_KEY_ANCHORS = ("pass", "pwd", "secret", "cred", "cookie", "auth", "bearer", "sig", "jwt", "verifier", "token", "key")
_UNQUOTED_VALUE = re.compile(r"""[^\s"'&;,\]}\\]+""")
_REST_OF_LINE = re.compile(r"""[^\r\n"'\\]+""")
_QUOTED_VALUE = {
    '"': re.compile(r'"((?:[^"\\\r\n]|\\.)*)"?'),
    "'": re.compile(r"'((?:[^'\\\r\n]|\\.)*)'?"),
}
# A value that starts with an HTTP authentication scheme runs to the end of the line.
_SCHEME_PREFIX = re.compile(r"(?i)(?:bearer|basic|digest|token|negotiate|ntlm|aws4-hmac-sha256)[ \t]")
_NOT_SECRET_VALUES = frozenset({"null", "none", "nil", "true", "false", "undefined"})


def _key_start(text: str, end: int) -> int:
    """Where the key that ends at ``end`` starts: key characters, and at most two single blanks
    between words ("API key", "Enter your password"), within 64 characters."""
    low = max(0, end - 64)
    segment = text[low:end]
    stripped = segment.rstrip(_KEY_CHARS)
    for _ in range(2):
        if len(stripped) >= 2 and stripped[-1] == " " and stripped[-2] in _KEY_CHARS:
            stripped = stripped[:-1].rstrip(_KEY_CHARS)
        else:
            break
    return low + len(stripped)


def _value_span(text: str, start: int, key: str, key_quote: str) -> Span | None:
    """The secret part of the value that starts at ``start``, after the secret key ``key``."""
    if text.startswith(REDACTION_MARKER, start):
        return None  # already redacted (its "]" would end an unquoted value early)
    first = text[start : start + 1]
    if first in _QUOTED_VALUE:
        match = _QUOTED_VALUE[first].match(text, start)
        assert match is not None  # the pattern matches any text that starts with its quote
        content_start, content_end = match.span(1)
        if content_start == content_end or text[content_start:content_end] == REDACTION_MARKER:
            return None
        return content_start, content_end, REDACTION_MARKER
    if "authorization" in key.lower() or "cookie" in key.lower() or _SCHEME_PREFIX.match(text, start):
        match = _REST_OF_LINE.match(text, start)
    else:
        match = _UNQUOTED_VALUE.match(text, start)
    if match is None:
        return None
    value = match.group().rstrip(" \t")
    if not value or value.lower() in _NOT_SECRET_VALUES:
        return None
    # After a quoted key ("pin": 1234) a quoted marker keeps JSON and Python literals valid.
    replacement = f"{key_quote}{REDACTION_MARKER}{key_quote}" if key_quote else REDACTION_MARKER
    return start, start + len(value), replacement


def _judge_key_value(rules: RedactionRules, text: str, anchor_start: int, separator: int) -> Span | None:
    """A secret word's start, in a key that ends before ``separator`` (= => or :)."""
    key_part = text[anchor_start:separator].rstrip(" \t")
    key_quote = ""
    if key_part[-1:] in ('"', "'"):
        key_quote = key_part[-1]
        key_part = key_part[:-1]
    key = text[_key_start(text, anchor_start) : anchor_start + len(key_part)]
    if not rules._text_key_is_secret(key):
        return None
    value_start = separator + 1
    if text[separator] == "=" and text.startswith(">", value_start):
        value_start += 1
    blanks = len(text[value_start : value_start + 4]) - len(text[value_start : value_start + 4].lstrip(" \t"))
    if blanks > 3:
        return None
    return _value_span(text, value_start + blanks, key, key_quote)


def _judge_option(rules: RedactionRules, text: str, start: int, value_start: int) -> Span | None:
    """``--name value``: the candidate is the option and its blanks."""
    key = text[start:value_start].rstrip(" \t")
    if not rules._text_key_is_secret(key):
        return None
    return _value_span(text, value_start, key, "")


def _looks_like_credential(token: str) -> bool:
    """Not an ordinary word: a digit or one of + / = _ ~, or mixed case past the first letter."""
    if any(character.isdigit() or character in "+/=_~" for character in token):
        return True
    letters = token.replace("-", "").replace(".", "")
    return not (letters[1:].islower() or letters.isupper())


def _judge_scheme(rules: RedactionRules, text: str, start: int, end: int) -> Span | None:
    token_start = start + 6 if text[start + 1] in "eE" else start + 5  # Bearer / Basic
    while text[token_start] in " \t":
        token_start += 1
    token = text[token_start:end].rstrip(".")
    if len(token) < 8 or not _looks_like_credential(token):
        return None
    return token_start, token_start + len(token), REDACTION_MARKER


def _judge_url(rules: RedactionRules, text: str, start: int, end: int) -> Span | None:
    password_start = text.index(":", start + 3, end) + 1
    password_end = end - 1  # the last "@" before the host
    if password_start == password_end or text[password_start:password_end] == REDACTION_MARKER:
        return None
    return password_start, password_end, REDACTION_MARKER


def _judge_private_key(rules: RedactionRules, text: str, start: int, body_start: int) -> Span | None:
    body_end = text.find("-----END", body_start)
    if body_end < 0:  # cut short (a truncated string): everything after the header
        body_end = len(text)
    body = text[body_start:body_end]
    stripped = body.strip()
    if not stripped or stripped == REDACTION_MARKER:
        return None
    body_start += len(body) - len(body.lstrip())
    return body_start, body_start + len(stripped), REDACTION_MARKER


def _judge_token(back: int = 0, skip: int = 0, needs_digit: bool = False) -> _Judge:
    """Replace the match, widened ``back`` characters (a prefix matched by a lookbehind) and
    narrowed by ``skip`` characters at its start (a prefix that stays readable)."""

    def judge(rules: RedactionRules, text: str, start: int, end: int) -> Span | None:
        start = start - back + skip
        if needs_digit and not any(character.isdigit() for character in text[start:end]):
            return None
        return start, end, REDACTION_MARKER

    return judge


# The text rules: (rule name, literal, pattern after the literal, judge). Rules that share a
# literal share one pass; the literal's characters gate it. Lookbehinds after the literal check
# the prefix of a token ("ghp" before "_") and that the token starts a word.
_A = "A-Za-z0-9"
_T = r"A-Za-z0-9_\-"
_TEXT_RULES: tuple[tuple[str, str, str, _Judge], ...] = (
    ("private-key-block", "-", r"----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----", _judge_private_key),
    ("key-value-text", "-", r"-(?![\-\s])[A-Za-z0-9_.\-]{1,48}[ \t]{1,3}(?=[^\s\-])", _judge_option),
    ("sk-api-key", "-", rf"(?<=sk-)(?<![{_T}]sk-)[{_T}]{{20,512}}(?![{_T}])", _judge_token(back=2, needs_digit=True)),
    ("gitlab-token", "-", rf"(?<=glpat-)(?<![{_T}]glpat-)[{_T}]{{20,255}}(?![{_T}])", _judge_token(back=5)),
    ("pypi-token", "-", rf"(?<=pypi-)(?<![{_T}]pypi-)AgEIcHlwaS5vcmc[{_T}]{{50,4096}}", _judge_token(back=4)),
    (
        "slack-token", "-", rf"(?<=xox[abposr]-)(?<![{_A}]xox[abposr]-)[A-Za-z0-9\-]{{10,255}}(?![A-Za-z0-9\-])",
        _judge_token(back=4),
    ),
    ("github-token", "_", rf"(?<=gh[pousr]_)(?<![{_A}_]gh[pousr]_)[{_A}]{{36,255}}(?![{_A}_])", _judge_token(back=3)),
    (
        "github-token", "_", rf"(?<=github_pat_)(?<![{_A}_]github_pat_)[{_A}_]{{22,255}}(?![{_A}_])",
        _judge_token(back=10),
    ),
    ("stripe-key", "_", rf"(?<=[sr]k_live_)(?<![{_A}][sr]k_live_)[{_A}]{{10,255}}(?![{_A}])", _judge_token(back=7)),
    ("stripe-key", "_", rf"(?<=[sr]k_test_)(?<![{_A}][sr]k_test_)[{_A}]{{10,255}}(?![{_A}])", _judge_token(back=7)),
    ("huggingface-token", "_", rf"(?<=hf_)(?<![{_A}_]hf_)[A-Za-z]{{34}}(?![{_A}_])", _judge_token(back=2)),
    ("npm-token", "_", rf"(?<=npm_)(?<![{_A}_]npm_)[{_A}]{{36}}(?![{_A}_])", _judge_token(back=3)),
    ("url-credentials", "://", r"""[^\s:/@"'<>\\]*:[^\s/"'<>\\]*@""", _judge_url),
    (
        "slack-webhook", "://", r"hooks\.slack\.com/services/[A-Za-z0-9_/]{8,512}",
        _judge_token(skip=len("://hooks.slack.com/services/")),
    ),
    (
        "jwt", "J", rf"(?<=eyJ)(?<![{_T}]eyJ)[{_T}]{{5,8192}}\.eyJ[{_T}]{{5,8192}}\.[{_T}]{{0,8192}}",
        _judge_token(back=2),
    ),
    ("aws-access-key-id", "A", rf"(?<![{_A}]A)(?:KIA|SIA)[A-Z0-9]{{16}}(?![{_A}])", _judge_token()),
    ("google-api-key", "A", rf"(?<![{_T}]A)Iza[{_T}]{{35}}(?![{_T}])", _judge_token()),
    (
        "auth-scheme", "B", rf"(?<![{_T}]B)(?:earer|EARER|asic|ASIC)[ \t]{{1,3}}[A-Za-z0-9\-._~+/]{{8,4096}}=*",
        _judge_scheme,
    ),
)
# key=value text, found from its separator in the lower-cased text read backwards: the
# separator (not :: nor :// nor ==), blanks, a quote, key characters, then a secret word's
# start (reversed). The words are the anchors of rule 1 and the longest word of each extra phrase.
_KEY_VALUE_SEPARATORS = {":": r":(?<!::)(?<!/:)(?!:)", "=": r"=(?<!==)(?!=)"}
_KEY_VALUE_RULE = "key-value-text"
_KEY_RULE = "secret-key-names"
_PAIR_RULE = "name-value-pairs"
RULE_NAMES: frozenset[str] = frozenset({_KEY_RULE, _PAIR_RULE} | {rule[0] for rule in _TEXT_RULES})
_ALL = "all"
# [name, value] mappings, as HTTP header lists, Kubernetes env and AWS tags log them.
_PAIR_FIELDS = (("name", "value"), ("key", "value"), ("Name", "Value"), ("Key", "Value"))


def _reversed_word_choice(words: Iterable[str]) -> str:
    """A choice among ``words`` reversed, grouped by first character (each group is one
    character compare for the engine)."""
    groups: dict[str, list[str]] = {}
    for word in sorted(set(words), key=lambda word: (-len(word), word)):
        groups.setdefault(word[-1], []).append(re.escape(word[::-1][1:]))
    return "|".join(
        re.escape(first) + ("(?:" + "|".join(rests) + ")" if any(rests) else "") for first, rests in groups.items()
    )


def _same_length_lower(text: str) -> str:
    lowered = text.lower()
    if len(lowered) != len(text):  # U+0130 (İ) is the only character whose lower case is longer
        lowered = text.replace("\u0130", "i").lower()
        if len(lowered) != len(text):  # a future Unicode version: lower one character at a time
            lowered = "".join(character if len(character.lower()) != 1 else character.lower() for character in text)
    return lowered


_Candidate = tuple[int, int, _Judge, int]  # start, order found, judge, end
_UNBOUNDED = 1 << 62
_Candidates = Callable[[str, list[_Candidate], int], None]
# A pass costs ~0.6-2.4 ns per character; trying one occurrence of a literal by itself ~0.3-0.9 us.
# So occurrences are tried one by one while they are sparse (the n-th one at least n * 512
# characters in), and one pass covers the rest: short and dense texts get a pass at once.
_SPARSE_SHIFT = 9
_SHORT_TEXT = 128  # characters: up to this, one search for any rule comes first


class _ForwardRules:
    """The text rules that start with one literal, as one regular expression over the text."""

    __slots__ = ("gate", "judges", "literal", "pattern")

    def __init__(self, literal: str, alternatives: list[str], judges: list[_Judge]) -> None:
        self.literal = literal  # every match starts with it
        self.gate = literal[-1]  # the rule runs when it is in the text: "/" for "://", rare in prose
        # Each alternative ends in an empty group; the last group a match closes names its judge.
        self.pattern = re.compile(re.escape(literal) + "(?:" + "|".join(f"{a}()" for a in alternatives) + ")")
        self.judges = (judges[0], *judges)

    def candidates(self, text: str, found: list[_Candidate], limit: int) -> None:
        """Append ``(start, order, judge, end)`` for each match, as ``finditer`` would find them;
        in a long text, the first few by ``str.find`` (memchr speed) and a match at each. Stops
        once ``found`` holds more than ``limit``: the caller then judges none of them."""
        literal, pattern, judges = self.literal, self.pattern, self.judges
        position = text.find(literal) if len(literal) == 1 else 0  # a longer literal: the pass finds it
        tried = 1
        while position >= tried << _SPARSE_SHIFT:
            match = pattern.match(text, position)
            if match is None:
                position = text.find(literal, position + 1)
            else:
                found.append((position, len(found), judges[match.lastindex or 0], match.end()))
                if len(found) > limit:
                    return
                position = text.find(literal, match.end())
            tried += 1
        if position < 0:
            return
        match = pattern.search(text, position)
        while match is not None and len(found) <= limit:
            found.append((match.start(), len(found), judges[match.lastindex or 0], match.end()))
            match = pattern.search(text, match.end())


class _KeyValueRule:
    """key=value text: from each separator, the lower-cased text read backwards (blanks, a
    quote, key characters, then a secret word's start) -- a pattern that starts with a literal,
    so it is cheap wherever the separator is."""

    __slots__ = ("patterns", "window")

    def __init__(self, anchors: list[str]) -> None:
        tail = r"""[ \t]{0,3}["']?[a-z0-9_.\-]{0,48}?(?:""" + _reversed_word_choice(anchors) + ")"
        self.patterns = tuple((separator, re.compile(head + tail)) for separator, head in _KEY_VALUE_SEPARATORS.items())
        self.window = 56 + max(map(len, anchors))  # characters before a separator a match can reach

    def candidates(self, text: str, found: list[_Candidate], short: bool, limit: int) -> None:
        """Append ``(secret word start, order, judge, separator)`` for each separator whose key
        holds a secret word's start; in a long text, sparse separators by a lower-cased window each.
        Stops once ``found`` holds more than ``limit``."""
        length = len(text)
        lower = str.lower if text.isascii() else _same_length_lower
        if short:  # the fewest calls: one lower-cased reversed copy, one search per separator
            backwards = lower(text)[::-1]
            for separator, pattern in self.patterns:
                if separator in text:
                    match = pattern.search(backwards)
                    while match is not None and len(found) <= limit:
                        found.append((length - match.end(), len(found), _judge_key_value, length - 1 - match.start()))
                        match = pattern.search(backwards, match.end())
            return
        window = self.window
        backwards = ""  # made once, if a pass is needed
        for separator, pattern in self.patterns:
            position = text.find(separator)
            tried = 1
            while position >= tried << _SPARSE_SHIFT:
                window_start = position - window if position > window else 0
                # Through the character after the separator, which the lookbehinds read.
                segment = text[window_start : position + 2]
                window_end = window_start + len(segment)
                match = pattern.match(lower(segment)[::-1], window_end - 1 - position)
                if match is not None:
                    found.append((window_end - match.end(), len(found), _judge_key_value, position))
                    if len(found) > limit:
                        return
                position = text.find(separator, position + 1)
                tried += 1
            if position < 0:
                continue
            backwards = backwards or lower(text)[::-1]
            last = length - 1 - position  # separators not yet tried are at most this far into it
            match = pattern.search(backwards)
            while match is not None and match.start() <= last and len(found) <= limit:
                found.append((length - match.end(), len(found), _judge_key_value, length - 1 - match.start()))
                match = pattern.search(backwards, match.end())


def _build_text_rules(
    enabled: frozenset[str], extra_anchors: Iterable[str]
) -> tuple[_ForwardRules | _KeyValueRule, ...]:
    by_literal: dict[str, tuple[list[str], list[_Judge]]] = {}
    for name, literal, pattern, judge in _TEXT_RULES:
        if name in enabled:
            alternatives, judges = by_literal.setdefault(literal, ([], []))
            alternatives.append(pattern)
            judges.append(judge)
    rules: list[_ForwardRules | _KeyValueRule] = [
        _ForwardRules(literal, alternatives, judges) for literal, (alternatives, judges) in by_literal.items()
    ]
    anchors = [*(_KEY_ANCHORS if _KEY_VALUE_RULE in enabled else ()), *extra_anchors]
    if anchors:
        rules.append(_KeyValueRule(anchors))
    return tuple(rules)


TextPattern = Union[str, "re.Pattern[str]"]  # a string or a compiled pattern


@dataclass(frozen=True)
class RedactionRules:
    """Which secrets to redact; ``RedactionRules()`` applies every rule of the module docstring.

    ``extra_key_words``: more secret words or phrases for keys and ``key=value`` text ("ssn",
    "session_id"); a key matches when its words contain the phrase's words in a row.
    ``extra_text_patterns``: regular expressions (strings or compiled) whose match, or group 1
    when the pattern has groups and group 1 took part, is replaced in every string.
    ``disabled``: rule names (``RULE_NAMES``) to turn off, or ``{"all"}`` for every built-in
    rule (extra words and patterns still apply).
    """

    extra_key_words: tuple[str, ...] = ()
    extra_text_patterns: tuple[TextPattern, ...] = ()
    disabled: frozenset[str] = frozenset()
    _key_memo: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)
    _text_key_memo: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)
    _key_rule_on: bool = field(default=True, init=False, repr=False, compare=False)
    _pairs_on: bool = field(default=True, init=False, repr=False, compare=False)
    _text_keys_on: bool = field(default=True, init=False, repr=False, compare=False)
    _extra_phrases: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)
    # (character, rules it gates): a rule runs only when its character is in the text.
    _gated_rules: tuple[tuple[str, tuple[_Candidates, ...]], ...] = field(
        default=(), init=False, repr=False, compare=False
    )
    _key_value_rule: _KeyValueRule | None = field(default=None, init=False, repr=False, compare=False)
    # For a short text, one search over it for any forward rule: cheaper than running them.
    _any_forward_rule: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _patterns: tuple[re.Pattern[str], ...] = field(default=(), init=False, repr=False, compare=False)
    # Whether redacting texts joined by newlines changes the joined text whenever redacting one of
    # them would change it (the conversion walk judges a record's texts at once): true for the
    # built-in rules, as no candidate spans a newline, a newline next to a text looks to their
    # lookarounds like the text's start or end, and every judge reads a value or a key only up to
    # the end of its line (a private key block may read past it, and then the joined text changes
    # too). Not with ``extra_text_patterns``, which may be anchored; nor with no text rule at all.
    judges_joined_texts: bool = field(default=False, init=False, repr=False, compare=False)
    # The lookup of ``is_secret_key``'s memo: True or False for a key it judged, else None. The
    # conversion walk tries it first, which saves a call per key on the hot path.
    known_secret_key: Callable[[str], bool | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_field = object.__setattr__
        disabled = frozenset(self.disabled)
        unknown = disabled - RULE_NAMES - {_ALL}
        if unknown:
            raise ConfigurationError(
                f"disabled: unknown rule name(s) {sorted(unknown)}; expected 'all' or some of {sorted(RULE_NAMES)}"
            )
        enabled = frozenset() if _ALL in disabled else RULE_NAMES - disabled
        words = tuple(self.extra_key_words)
        phrases = []
        for position, word in enumerate(words, 1):
            if not isinstance(word, str) or not _key_words(word):
                raise ConfigurationError(f"extra_key_words: entry number {position} has no letters or digits")
            phrases.append(_phrase(_key_words(word)))
        patterns = tuple(
            _compile_extra(pattern, position) for position, pattern in enumerate(self.extra_text_patterns, 1)
        )
        extra_anchors = [max(_key_words(word), key=len) for word in words]
        text_rules = _build_text_rules(enabled, extra_anchors)
        set_field(self, "disabled", disabled)
        set_field(self, "extra_key_words", words)
        set_field(self, "extra_text_patterns", tuple(self.extra_text_patterns))
        set_field(self, "_extra_phrases", tuple(phrases))
        set_field(self, "_key_rule_on", _KEY_RULE in enabled)
        set_field(self, "_pairs_on", _PAIR_RULE in enabled)
        set_field(self, "_text_keys_on", _KEY_VALUE_RULE in enabled)
        gated: dict[str, list[_Candidates]] = {}
        forward_patterns: list[str] = []
        for rule in text_rules:
            if isinstance(rule, _ForwardRules):
                gated.setdefault(rule.gate, []).append(rule.candidates)
                forward_patterns.append(f"(?:{rule.pattern.pattern})")
            else:
                set_field(self, "_key_value_rule", rule)
        if forward_patterns:
            set_field(self, "_any_forward_rule", re.compile("|".join(forward_patterns)))
        set_field(self, "_gated_rules", tuple((gate, tuple(rules)) for gate, rules in gated.items()))
        set_field(self, "_patterns", patterns)
        set_field(self, "known_secret_key", self._key_memo.get)
        set_field(self, "judges_joined_texts", not patterns and bool(forward_patterns or self._key_value_rule))

    # -- rule 1 -----------------------------------------------------------------------------

    def is_secret_key(self, key: str) -> bool:
        """Whether a mapping key (or a header or variable name) names a secret; memoized."""
        secret = self._key_memo.get(key)
        if secret is None:
            secret = self._classify(key, self._key_rule_on)
            if type(key) is str and len(key) <= _MAX_MEMO_KEY_CHARS and len(self._key_memo) < _MAX_MEMO_ENTRIES:
                self._key_memo[key] = secret
        return secret

    def _text_key_is_secret(self, key: str) -> bool:
        """Rule 1 for a key found in text (rule 3 may be on while rule 1 is off, or the reverse)."""
        secret = self._text_key_memo.get(key)
        if secret is None:
            secret = self._classify(key, self._text_keys_on)
            if len(self._text_key_memo) < _MAX_MEMO_ENTRIES and len(key) <= _MAX_MEMO_KEY_CHARS:
                self._text_key_memo[key] = secret
        return secret

    def _classify(self, key: str, built_in: bool) -> bool:
        if not (built_in or self._extra_phrases) or not isinstance(key, str):
            return False  # (a key that is not text: the walk converts keys first)
        words = _key_words(key)
        if built_in and _words_name_a_secret(words):
            return True
        if self._extra_phrases:
            joined = _phrase(words)
            return any(phrase in joined for phrase in self._extra_phrases)
        return False

    # -- rule 2 -----------------------------------------------------------------------------

    def secret_pair_slot(self, container: object) -> int | str | None:
        """Where a name/value pair keeps a secret value, or None.

        ``[name, value]`` or ``(name, value)`` whose name is a secret key -> ``1``; a mapping with
        exactly the keys name/value, key/value, Name/Value or Key/Value whose name is a secret
        key -> ``"value"`` or ``"Value"``. Anything else -> None.
        """
        if not self._pairs_on:
            return None
        if type(container) is list or type(container) is tuple:
            if len(container) == 2 and type(container[0]) is str and self.is_secret_key(container[0]):
                return 1
            return None
        if isinstance(container, Mapping) and len(container) == 2:
            for name_field, value_field in _PAIR_FIELDS:
                if name_field in container and value_field in container:
                    name = container[name_field]
                    return value_field if type(name) is str and self.is_secret_key(name) else None
        return None

    # -- rules 3 and on ---------------------------------------------------------------------

    def redact_text(self, text: str) -> str:
        """``text`` with each secret part replaced by ``[REDACTED]``; ``text`` itself if none."""
        redacted, _ = self.redact_text_within(text, _UNBOUNDED)
        assert redacted is not None
        return redacted

    def redact_text_within(self, text: str, allowance: int) -> tuple[str | None, int]:
        """``redact_text`` that judges at most ``allowance`` candidate secrets: the text and how
        many it judged, or None for a text that holds more (the caller replaces it whole).

        Judging a candidate costs a few microseconds, and a hostile text can hold one every few
        characters ("api key: api key: ..." costs ~370 ms a megabyte): the conversion walk gives
        each record an allowance, so that redaction stays bounded whatever a server sends.
        """
        judged = 0
        # Letters and digits alone can hold no secret but AKIA..., ASIA..., AIza....
        if (self._gated_rules or self._key_value_rule) and not (text.isalnum() and "A" not in text):
            redacted, judged = self._redact_built_in(text, allowance)
            if redacted is None:
                return None, judged
            text = redacted
        for pattern in self._patterns:
            if pattern.search(text) is not None:
                text = pattern.sub(_replace_extra, text)
        return text, judged

    def _redact_built_in(self, text: str, allowance: int) -> tuple[str | None, int]:
        candidates: list[_Candidate] = []
        # In a short text, one search costs less than the calls that run the rules one by one.
        short = len(text) <= _SHORT_TEXT
        if self._any_forward_rule is not None and (not short or self._any_forward_rule.search(text)):
            for gate, rules in self._gated_rules:
                if gate in text:
                    for add_candidates in rules:
                        add_candidates(text, candidates, allowance)
                    if len(candidates) > allowance:
                        return None, len(candidates)
        if self._key_value_rule is not None and (":" in text or "=" in text):
            self._key_value_rule.candidates(text, candidates, short, allowance)
        if not candidates:
            return text, 0
        if len(candidates) > allowance:
            return None, len(candidates)
        candidates.sort()
        pieces: list[str] = []
        done = 0
        for start, _, judge, end in candidates:
            if start < done:
                continue  # inside a secret already replaced
            span = judge(self, text, start, end)
            if span is None or span[0] < done:
                continue
            pieces.append(text[done : span[0]])
            pieces.append(span[2])
            done = span[1]
        if not pieces:
            return text, len(candidates)
        pieces.append(text[done:])
        return "".join(pieces), len(candidates)


def _replace_extra(match: re.Match[str]) -> str:
    if match.re.groups and match.start(1) >= 0:
        text, start = match.string, match.start()
        return text[start : match.start(1)] + REDACTION_MARKER + text[match.end(1) : match.end()]
    return REDACTION_MARKER


def _compile_extra(pattern: object, position: int, source: str = "extra_text_patterns") -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        compiled = pattern
    elif isinstance(pattern, str):
        try:
            compiled = re.compile(pattern)
        except re.error as error:
            where = f" at character {error.pos}" if error.pos is not None else ""
            raise ConfigurationError(
                f"{source}: pattern number {position} is not a valid regular expression ({error.msg}{where})"
            ) from None
    else:
        raise ConfigurationError(f"{source}: pattern number {position} is not a string")
    if not isinstance(compiled.pattern, str):
        raise ConfigurationError(f"{source}: pattern number {position} is a bytes pattern; expected text")
    if compiled.search("") is not None:
        raise ConfigurationError(f"{source}: pattern number {position} matches the empty string")
    return compiled


DEFAULT_RULES = RedactionRules()
NO_REDACTION = RedactionRules(disabled=frozenset({_ALL}))

_KEYS_VARIABLE = "MCP_OTEL_REDACT_KEYS"
_PATTERNS_VARIABLE = "MCP_OTEL_REDACT_PATTERNS"
_DISABLE_VARIABLE = "MCP_OTEL_REDACT_DISABLE"


def rules_from_environment(environ: Mapping[str, str]) -> RedactionRules:
    """The rules that ``MCP_OTEL_REDACT_KEYS``, ``_PATTERNS`` and ``_DISABLE`` ask for.

    Unset or blank variables give ``DEFAULT_RULES``; a bad value raises ``ConfigurationError``
    naming the variable and the entry's position.
    """
    words: list[str] = []
    for position, item in enumerate((environ.get(_KEYS_VARIABLE) or "").split(","), 1):
        item = item.strip()
        if not item:
            continue
        if not _key_words(item):
            raise ConfigurationError(f"{_KEYS_VARIABLE}: entry number {position} has no letters or digits")
        words.append(item)
    patterns: list[re.Pattern[str]] = []
    for position, line in enumerate((environ.get(_PATTERNS_VARIABLE) or "").splitlines(), 1):
        line = line.strip()
        if line:
            patterns.append(_compile_extra(line, position, _PATTERNS_VARIABLE))
    disabled: set[str] = set()
    for position, item in enumerate((environ.get(_DISABLE_VARIABLE) or "").split(","), 1):
        item = item.strip().lower()
        if not item:
            continue
        if item not in RULE_NAMES and item != _ALL:
            raise ConfigurationError(
                f"{_DISABLE_VARIABLE}: entry number {position} is not a rule name; "
                f"expected 'all' or some of {', '.join(sorted(RULE_NAMES))}"
            )
        disabled.add(item)
    if not (words or patterns or disabled):
        return DEFAULT_RULES
    return RedactionRules(tuple(words), tuple(patterns), frozenset(disabled))
