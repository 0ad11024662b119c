"""The redaction contract, rule by rule (the table in mcp_otel.redaction's docstring)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_otel import redaction
from mcp_otel.errors import ConfigurationError
from mcp_otel.redaction import (
    DEFAULT_RULES,
    NO_REDACTION,
    REDACTION_MARKER,
    RULE_NAMES,
    RedactionRules,
    rules_from_environment,
)

R = REDACTION_MARKER

# ---------------------------------------------------------------------------------------------
# secret-key-names

SECRET_KEYS = [
    # The spellings a server is likely to use, one row each.
    "password", "passwd", "pwd", "PASSWORD", "DB_PASSWORD", "db.password", "userPassword", "pgpassword",
    "PGPASSWORD", "MYSQL_PWD", "password2", "password_hash", "password_confirmation", "new-password",
    "secret", "secrets", "client_secret", "clientSecret", "CLIENT-SECRET", "app_secret", "jwt_secret",
    "aws_secret_access_key", "AWSSecretAccessKey", "AWS_SECRET_ACCESS_KEY", "secret_key", "secretKey",
    "token", "access_token", "accessToken", "refresh_token", "id_token", "x-auth-token", "authToken",
    "authtoken", "session_token", "aws_session_token", "csrf_token", "X-CSRF-Token", "PRIVATE-TOKEN",
    "X-Vault-Token", "github_token", "GITHUB_TOKEN", "x-amz-security-token", "bearer_token", "api_token",
    "registration_access_token", "access_tokens",
    "api_key", "apiKey", "API-KEY", "X-Api-Key", "x_api_key", "apikey", "xapikey", "XApiKey", "APIKey",
    "api_key_v2", "apiKeyHeader", "openai_api_key", "ANTHROPIC_API_KEY", "X-Goog-Api-Key",
    "stripe_secret_key", "Ocp-Apim-Subscription-Key", "x-functions-key", "encryption_key", "signing_key",
    "master_key", "account_key", "SUPABASE_SERVICE_ROLE_KEY", "api_keys",
    "authorization", "Authorization", "proxy-authorization", "Proxy-Authorization", "auth", "basic_auth",
    "x-auth", "authorization_header",
    "credentials", "credential", "creds", "x-amz-credential",
    "private_key", "privateKey", "privatekey", "ssh-private-key", "private_key_pem", "client_key",
    "cookie", "Cookie", "cookies", "Set-Cookie", "session_cookie",
    "passphrase", "passcode", "bearer", "signature", "x-hub-signature-256", "sig", "jwt", "code_verifier",
    "slack_webhook_secret", "db_pass", "smtp_pass",
]  # fmt: skip

# (key, why it is not a secret)
NOT_SECRET_KEYS = [
    ("max_tokens", "an LLM token count"),
    ("input_tokens", "an LLM token count"),
    ("output_tokens", "an LLM token count"),
    ("total_tokens", "an LLM token count"),
    ("prompt_token_count", "a count: the last word decides"),
    ("token_count", "a count: the last word decides"),
    ("tokens", "plural tokens is a count unless access/refresh/..."),
    ("tokenizer", "another word"),
    ("eos_token", "an LLM special token"),
    ("max_token", "an LLM limit"),
    ("progressToken", "an MCP progress token"),
    ("nextPageToken", "a pagination cursor"),
    ("next_token", "AWS pagination"),
    ("continuation_token", "S3 pagination"),
    ("token_type", "Bearer, a scheme name"),
    ("token_endpoint", "OAuth metadata: a URL"),
    ("author", "another word"),
    ("authority", "another word"),
    ("authored_by", "another word"),
    ("authenticated", "a flag"),
    ("oauth", "a configuration block, not a credential"),
    ("auth_type", "the last word decides"),
    ("authorization_endpoint", "OAuth metadata: a URL"),
    ("authorization_servers", "MCP auth metadata"),
    ("public_key", "public by definition"),
    ("publicKey", "public by definition"),
    ("cache_key", "a cache key"),
    ("primary_key", "a database key"),
    ("foreign_key", "a database key"),
    ("sort_key", "a database key"),
    ("partition_key", "a database key"),
    ("idempotency_key", "a request id"),
    ("key", "bare key: a cache, map or object key"),
    ("keys", "bare keys: a list of names"),
    ("private_key_id", "an identifier of a key"),
    ("api_key_id", "an identifier of a key"),
    ("aws_access_key_id", "an identifier; an AKIA value is caught by the text rule"),
    ("keyboard", "another word"),
    ("monkey", "ends in key, but mon is no key qualifier"),
    ("turkey", "ends in key, but tur is no key qualifier"),
    ("hotkey", "ends in key, but hot is no key qualifier"),
    ("passenger", "another word"),
    ("compass", "pass only as a separate last word"),
    ("bypass", "pass only as a separate last word"),
    ("pass_rate", "the last word decides"),
    ("secretary", "another word"),
    ("secret_name", "the name of a secret, not the secret"),
    ("password_policy", "the last word decides"),
    ("client_secret_expires_at", "OAuth registration: a time"),
    ("signed_at", "a time"),
    ("cookie_consent", "a consent flag"),
    ("session_id", "MCP forbids session-based auth; mcp.session.id is exported"),
    ("sessionId", "MCP forbids session-based auth"),
    ("Mcp-Session-Id", "MCP forbids session-based auth"),
    ("sid", "session id: see session_id"),
    ("session_key", "Django's session id: see session_id"),
    ("OLDPWD", "a directory; pwd only as a separate word"),
    ("request_id", "ordinary field"),
    ("user", "ordinary field"),
    ("", "empty"),
    ("_", "no words"),
]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_key_names_caught(key: str) -> None:
    assert DEFAULT_RULES.is_secret_key(key)


@pytest.mark.parametrize(
    "key", [row[0] for row in NOT_SECRET_KEYS], ids=[f"{key or '<empty>'}: {why}" for key, why in NOT_SECRET_KEYS]
)
def test_secret_key_near_misses_not_caught(key: str) -> None:
    assert not DEFAULT_RULES.is_secret_key(key)


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("pwd", True),  # MYSQL_PWD, Pwd= in connection strings ...
        ("PWD", True),  # ... so the shell's working directory is redacted too (documented)
        ("first_pass", True),  # pass as a last word: db_pass, smtp_pass (documented false positive)
        ("is_secret", True),  # a flag, but its last word is secret
    ],
    ids=["pwd: a password", "PWD: accepted false positive", "first_pass: accepted false positive", "is_secret: flag"],
)
def test_secret_key_decisions(key: str, secret: bool) -> None:
    assert DEFAULT_RULES.is_secret_key(key) is secret


def test_key_examined_by_its_tail_with_bounded_work() -> None:
    assert DEFAULT_RULES.is_secret_key("x" * 10_000 + "_password")
    assert not DEFAULT_RULES.is_secret_key("password_" + "x" * 10_000)


@pytest.mark.parametrize("key", [3, ("password",), None], ids=["int", "tuple", "None"])
def test_key_that_is_not_text_is_no_secret(key: object) -> None:
    assert not DEFAULT_RULES.is_secret_key(key)  # type: ignore[arg-type]


def test_key_memo_is_bounded() -> None:
    rules = RedactionRules()
    for index in range(10_000):
        rules.is_secret_key(f"field_{index}")
    rules.is_secret_key("k" * 65)
    assert len(rules._key_memo) == 4_096
    assert "k" * 65 not in rules._key_memo
    assert rules.is_secret_key("field_9999_password")  # still answers past the cap


# ---------------------------------------------------------------------------------------------
# name-value-pairs

PAIR_ROWS = [
    ("[name, value] header", ["Authorization", "Bearer x"], 1),
    ("(name, value) tuple", ("X-Api-Key", "k"), 1),
    ("k8s env name/value", {"name": "DB_PASSWORD", "value": "x"}, "value"),
    ("key/value", {"key": "api_key", "value": "x"}, "value"),
    ("AWS tag Key/Value", {"Key": "client_secret", "Value": "x"}, "Value"),
    ("HAR Name/Value", {"Name": "Cookie", "Value": "a=1"}, "Value"),
    ("list, ordinary name", ["Content-Type", "text/plain"], None),
    ("mapping, ordinary name", {"name": "user", "value": "ana"}, None),
    ("three items", ["password", "x", "y"], None),
    ("first item not text", [1, "password"], None),
    ("name not text", {"name": 3, "value": "x"}, None),
    ("other keys", {"label": "password", "value": "x"}, None),
    ("a string is no pair", "pw", None),
    ("two words: accepted false positive", ["token", "usage"], 1),
]


@pytest.mark.parametrize(("container", "slot"), [row[1:] for row in PAIR_ROWS], ids=[row[0] for row in PAIR_ROWS])
def test_name_value_pairs(container: object, slot: object) -> None:
    assert DEFAULT_RULES.secret_pair_slot(container) == slot


# ---------------------------------------------------------------------------------------------
# Text rules: (rule, text, expected)

TEXT_ROWS = [
    ("key-value-text", "password=hunter2", f"password={R}"),
    ("key-value-text", "login user=ana password=hunter2 retry=3", f"login user=ana password={R} retry=3"),
    ("key-value-text", "api_key: abc123", f"api_key: {R}"),
    ("key-value-text", '{"client_secret": "xyz", "n": 1}', f'{{"client_secret": "{R}", "n": 1}}'),
    ("key-value-text", '{"client_secret":"x\\"y","n":1}', f'{{"client_secret":"{R}","n":1}}'),
    ("key-value-text", "{'password': 'hunter2'}", f"{{'password': '{R}'}}"),
    ("key-value-text", 'password="hunter 2" next', f'password="{R}" next'),
    ("key-value-text", '{"password": 1234}', f'{{"password": "{R}"}}'),
    ("key-value-text", "password = hunter2", f"password = {R}"),
    ("key-value-text", "secret => 'abc'", f"secret => '{R}'"),
    ("key-value-text", '{"password"=>"x"}', f'{{"password"=>"{R}"}}'),
    ("key-value-text", "GET /cb?code=1&access_token=abc.def&state=x", f"GET /cb?code=1&access_token={R}&state=x"),
    ("key-value-text", "https://api.example.com/v1?token=abc&x=1", f"https://api.example.com/v1?token={R}&x=1"),
    ("key-value-text", "https://acct.blob.core.windows.net/c?sv=2022&sig=abc%2B", f"https://acct.blob.core.windows.net/c?sv=2022&sig={R}"),
    ("key-value-text", "Server=db;User Id=sa;Password=Pa55w0rd;", f"Server=db;User Id=sa;Password={R};"),
    ("key-value-text", "export GITHUB_TOKEN=abc123", f"export GITHUB_TOKEN={R}"),
    ("key-value-text", "DB_PASSWORD=s3cr3t", f"DB_PASSWORD={R}"),
    ("key-value-text", "X-Api-Key: k-123", f"X-Api-Key: {R}"),
    ("key-value-text", "API key: abc123", f"API key: {R}"),
    ("key-value-text", "Enter your password: hunter2", f"Enter your password: {R}"),
    ("key-value-text", "--password hunter2 --verbose", f"--password {R} --verbose"),
    ("key-value-text", "mysql --user=root --password=hunter2 db", f"mysql --user=root --password={R} db"),
    ("key-value-text", "--api-key abc123", f"--api-key {R}"),
    ("key-value-text", "Authorization: Bearer abc.def\r\nHost: x.org", f"Authorization: {R}\r\nHost: x.org"),
    ("key-value-text", "proxy-authorization: Basic dXNlcjpwYXNz", f"proxy-authorization: {R}"),
    ("key-value-text", "Cookie: session=abc; theme=dark", f"Cookie: {R}"),
    ("key-value-text", "Set-Cookie: sid=abc; HttpOnly\nVary: x", f"Set-Cookie: {R}\nVary: x"),
    ("key-value-text", "token: bearer abc", f"token: {R}"),
    ("key-value-text", "auth=Token abc def", f"auth={R}"),
    ("key-value-text", "PGPASSWORD=x psql", f"PGPASSWORD={R} psql"),
    ("key-value-text", "İstanbul password=hunter2", f"İstanbul password={R}"),
    ("auth-scheme", "sending Bearer abc123def456 upstream", f"sending Bearer {R} upstream"),
    ("auth-scheme", "BEARER ABC123DEF456", f"BEARER {R}"),
    ("auth-scheme", "Bearer eyJ0eXAi.abc-def_ghi.", f"Bearer {R}."),
    ("auth-scheme", "curl -u x Basic dXNlcjpwYXNz", f"curl -u x Basic {R}"),
    ("url-credentials", "postgres://app:s3cret@db.internal:5432/app", f"postgres://app:{R}@db.internal:5432/app"),
    ("url-credentials", "redis://:pw123@cache:6379/0", f"redis://:{R}@cache:6379/0"),
    ("url-credentials", "amqp://guest:guest@rabbit/", f"amqp://guest:{R}@rabbit/"),
    ("url-credentials", "mongodb+srv://u:p%40ss@cluster0.example.net/db", f"mongodb+srv://u:{R}@cluster0.example.net/db"),
    ("url-credentials", "postgres://u:p@ss@host/db", f"postgres://u:{R}@host/db"),
    ("url-credentials", "DSN 'mysql://root:toor@localhost' ok", f"DSN 'mysql://root:{R}@localhost' ok"),
    (
        "private-key-block",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc=\n-----END RSA PRIVATE KEY-----",
        f"-----BEGIN RSA PRIVATE KEY-----\n{R}\n-----END RSA PRIVATE KEY-----",
    ),
    (
        "private-key-block",
        "key: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA",
        f"key: -----BEGIN OPENSSH PRIVATE KEY-----\n{R}",
    ),
    (
        "private-key-block",
        "-----BEGIN PRIVATE KEY-----MIIE-----END PRIVATE KEY-----",
        f"-----BEGIN PRIVATE KEY-----{R}-----END PRIVATE KEY-----",
    ),
    ("aws-access-key-id", "key id AKIAIOSFODNN7EXAMPLE used", f"key id {R} used"),
    ("aws-access-key-id", "ASIAY34FZKBOKMUTVV7A", R),
    ("github-token", "t ghp_" + "a1B2" * 9 + " x", f"t {R} x"),
    ("github-token", "gho_" + "Z" * 36, R),
    ("github-token", "github_pat_11ABCDEFG0" + "x_Y" * 10, R),
    ("gitlab-token", "glpat-" + "aB3_" * 5, R),
    (
        "jwt",
        "id eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end",
        f"id {R} end",
    ),
    ("sk-api-key", "key sk-proj-abc123def456ghi789jkl0 ok", f"key {R} ok"),
    ("sk-api-key", "sk-ant-api03-" + "Ab1-" * 10, R),
    ("slack-token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKl", R),
    ("slack-webhook", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXX", f"https://hooks.slack.com/services/{R}"),
    ("google-api-key", "AIzaSyA-1234567890abcdefghijklmnopqrstu", R),
    ("stripe-key", "sk_live_51H8abcdefghijklmnop", R),
    ("stripe-key", "rk_test_51H8abcdefghijklmnop", R),
    ("huggingface-token", "hf_" + "AbCdEfGhIj" * 3 + "KlMn", R),
    ("npm-token", "npm_" + "a1B2" * 9, R),
    ("pypi-token", "pypi-AgEIcHlwaS5vcmc" + "Ab1_" * 15, R),
]

# (text, why nothing in it is a secret)
NOT_SECRET_TEXTS = [
    ("Lisbon", "a city"),
    ("request 1234 handled in 35 ms for user ana (cache hit): ok", "a log sentence"),
    ("2024-05-01T12:00:00.123Z", "a timestamp"),
    ("8f3a2c1e-4b5d-4e6f-9a8b-7c6d5e4f3a2b", "a UUID"),
    ("commit 3f2b9c1e0d4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c", "a git SHA"),
    ("max_tokens=512 input_tokens: 30 total_tokens=542", "LLM token counts"),
    ("author=ana authority: x authored_by=bo", "author words"),
    ("public_key=abc cache_key=x primary_key=id", "non-secret keys"),
    ("key: value", "bare key"),
    ("Unexpected key: }", "bare key in prose"),
    ("progressToken: 3 nextPageToken=abc", "MCP progress and pagination"),
    ("token_count: 5, token_type=Bearer", "token metadata"),
    ("password=null password=None password=true", "no value"),
    ('password="" password=', "empty value"),
    (f"password={R}", "already redacted"),
    ("a==b && x!=y", "comparisons"),
    ("std::string key; Foo::Bar", "scope operators"),
    ("https://example.com/docs?page=2", "an ordinary URL"),
    ("https://user@example.com/", "a user without password"),
    ("https://example.com:8443/a?b=c", "a port"),
    ("http://[::1]:8080/", "an IPv6 host"),
    ("mail ana@example.com", "an email address"),
    ("task-list risk-free disk-usage sk-learn", "sk- inside words"),
    ("sk-" + "abcdefghij" * 3, "sk- without a digit"),
    ("the Bearer of bad news", "bearer in prose"),
    ("Basic Authentication is enabled", "basic in prose"),
    ("basic idea", "basic in prose"),
    ("bearer abc123def456", "lower-case bearer outside a key (documented)"),
    ("Asia is large; AKIA123", "AKIA too short"),
    ("xAKIAIOSFODNN7EXAMPLE", "AKIA inside a word"),
    ("ghp_short gho_", "github prefix without a token"),
    ("eyJhbGciOiJIUzI1NiJ9", "one JWT part"),
    ("pk_live_51H8abcdefghijklmnop", "Stripe publishable key"),
    ("hf_model_name npm_config_cache pypi-simple", "prefixes in names"),
    ("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "a certificate"),
    ("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", "a public key"),
    ("xoxb-", "slack prefix alone"),
    ("the compass: north", "pass inside a word"),
    ("ratio=0.25 status=200 path=/v1/items?limit=20&page=3", "ordinary key=value"),
    ("C:\\Users\\ana\\keys", "a path"),
    ("--verbose --output out.txt", "ordinary options"),
    ("", "empty"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [row[1:] for row in TEXT_ROWS], ids=[f"{row[0]}: {row[1][:40]}" for row in TEXT_ROWS]
)
def test_text_secrets_redacted(text: str, expected: str) -> None:
    assert DEFAULT_RULES.redact_text(text) == expected


@pytest.mark.parametrize("text", [row[0] for row in NOT_SECRET_TEXTS], ids=[row[1] for row in NOT_SECRET_TEXTS])
def test_text_near_misses_returned_as_the_same_object(text: str) -> None:
    assert DEFAULT_RULES.redact_text(text) is text


@pytest.mark.parametrize(
    ("text", "expected"), [row[1:] for row in TEXT_ROWS], ids=[f"{row[0]}: {row[1][:40]}" for row in TEXT_ROWS]
)
def test_redaction_is_idempotent(text: str, expected: str) -> None:
    assert DEFAULT_RULES.redact_text(expected) is expected


PROSE = (
    "The river town wakes slowly. By seven the bakery has its shutters up; nobody hurries. "
    "Ana says the trick is simple, and her grandson keeps a notebook of which fruit sells best. "
)


@pytest.mark.parametrize(
    ("text", "expected"), [row[1:] for row in TEXT_ROWS], ids=[f"{row[0]}: {row[1][:40]}" for row in TEXT_ROWS]
)
def test_text_secrets_found_deep_in_long_text(text: str, expected: str) -> None:
    # Past 512 characters, sparse occurrences are tried one by one instead of by one pass.
    padding = PROSE * 8
    redacted = DEFAULT_RULES.redact_text(padding + text + "\n" + padding)
    if "BEGIN" in text and "END" not in text:  # a cut-short key block: redacted to the end of the text
        assert redacted.rstrip() == padding + expected
    else:
        assert redacted == padding + expected + "\n" + padding


@pytest.mark.parametrize("name", sorted(RULE_NAMES - {"secret-key-names", "name-value-pairs"}))
def test_each_text_rule_can_be_disabled(name: str) -> None:
    rows = [row for row in TEXT_ROWS if row[0] == name]
    assert rows, "every text rule has rows"
    rules = RedactionRules(disabled=frozenset({name}))
    for _, text, _ in rows:
        if name == "key-value-text" and ("Bearer" in text or "Basic" in text):
            continue  # auth-scheme still redacts the credential
        assert rules.redact_text(text) is text


def test_key_rules_can_be_disabled() -> None:
    assert not RedactionRules(disabled=frozenset({"secret-key-names"})).is_secret_key("password")
    assert RedactionRules(disabled=frozenset({"secret-key-names"})).redact_text("password=x") == f"password={R}"
    assert RedactionRules(disabled=frozenset({"name-value-pairs"})).secret_pair_slot(["password", "x"]) is None


def test_no_redaction_redacts_nothing() -> None:
    for _, text, _ in TEXT_ROWS:
        assert NO_REDACTION.redact_text(text) is text
    assert not any(NO_REDACTION.is_secret_key(key) for key in SECRET_KEYS)
    assert NO_REDACTION.secret_pair_slot(["password", "x"]) is None


def test_unknown_rule_name_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown rule"):
        RedactionRules(disabled=frozenset({"jwts"}))


def test_extra_key_words_apply_to_keys_and_text() -> None:
    rules = RedactionRules(extra_key_words=("ssn", "session_id"))
    assert rules.is_secret_key("user_ssn")
    assert rules.is_secret_key("Mcp-Session-Id") and rules.is_secret_key("sessionId")
    assert not rules.is_secret_key("lesson")
    assert rules.redact_text("user ssn=123-45-6789 ok") == f"user ssn={R} ok"
    assert rules.redact_text("sessionId: abc") == f"sessionId: {R}"
    assert rules.redact_text("password=x") == f"password={R}"  # the built-in rules still apply


def test_extra_key_words_apply_with_all_built_in_rules_off() -> None:
    rules = RedactionRules(extra_key_words=("ssn",), disabled=frozenset({"all"}))
    assert rules.is_secret_key("ssn") and not rules.is_secret_key("password")
    assert rules.redact_text("ssn=1 password=2") == f"ssn={R} password=2"


def test_extra_text_patterns_replace_the_match_or_group_one() -> None:
    rules = RedactionRules(extra_text_patterns=(r"acct-\d{6}", re.compile(r"pin (\d{4})\b")))
    assert rules.redact_text("acct-123456 and pin 1234.") == f"{R} and pin {R}."
    assert rules.redact_text("nothing here") == "nothing here"


# ---------------------------------------------------------------------------------------------
# Environment

GOOD_ENVIRONMENTS = [
    ("nothing set", {}, "password=x", f"password={R}"),
    ("blank values", {"MCP_OTEL_REDACT_KEYS": " ", "MCP_OTEL_REDACT_DISABLE": ""}, "password=x", f"password={R}"),
    ("extra key words", {"MCP_OTEL_REDACT_KEYS": "ssn, session_id ,"}, "ssn=1 session_id=2", f"ssn={R} session_id={R}"),
    ("one pattern", {"MCP_OTEL_REDACT_PATTERNS": r"acct-\d{6}"}, "acct-123456", R),
    (
        "patterns one per line",
        {"MCP_OTEL_REDACT_PATTERNS": "acct-\\d{2,6}\n\n  pin (\\d{4})  \n"},
        "acct-12 pin 1234",
        f"{R} pin {R}",
    ),
    ("disable two rules", {"MCP_OTEL_REDACT_DISABLE": "jwt, url-credentials"}, "redis://:pw@h", "redis://:pw@h"),
    ("disable all", {"MCP_OTEL_REDACT_DISABLE": "all"}, "password=x", "password=x"),
    ("disable ALL, any case", {"MCP_OTEL_REDACT_DISABLE": "ALL"}, "password=x", "password=x"),
]


@pytest.mark.parametrize(
    ("environ", "text", "expected"), [row[1:] for row in GOOD_ENVIRONMENTS], ids=[row[0] for row in GOOD_ENVIRONMENTS]
)
def test_rules_from_environment(environ: dict[str, str], text: str, expected: str) -> None:
    assert rules_from_environment(environ).redact_text(text) == expected


def test_no_variables_give_the_default_rules() -> None:
    assert rules_from_environment({}) is DEFAULT_RULES


BAD_ENVIRONMENTS = [
    ("key without letters", "MCP_OTEL_REDACT_KEYS", "ssn,--", "entry number 2 has no letters"),
    ("pattern that does not compile", "MCP_OTEL_REDACT_PATTERNS", "ok\n(unclosed", "pattern number 2 is not a valid"),
    ("pattern matching the empty string", "MCP_OTEL_REDACT_PATTERNS", "x*", "pattern number 1 matches the empty"),
    ("unknown rule", "MCP_OTEL_REDACT_DISABLE", "jwt,nope", "entry number 2 is not a rule name"),
]


@pytest.mark.parametrize(
    ("variable", "value", "message"), [row[1:] for row in BAD_ENVIRONMENTS], ids=[row[0] for row in BAD_ENVIRONMENTS]
)
def test_bad_environment_is_a_configuration_error(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^{variable}: {message}"):
        rules_from_environment({variable: value})


# ---------------------------------------------------------------------------------------------
# Untrusted input: bounded time, never an exception, the same answer by every search strategy.

ADVERSARIAL = {
    "a=a=a=": "a=" * 500_000,
    "key=key=": "key=" * 250_000,
    "password=password=": "password=" * 111_111,
    "token:token:": "token:" * 166_666,
    "Bearer Bearer": "Bearer " * 142_857,
    "xx://a:a:a:...@": "xx://" + "a:" * 500_000 + "@",
    "x://a: repeated": "x://a:" * 166_666,
    "sk-sk-sk-": "sk-" * 333_333,
    "eyJa.eyJa.": "eyJaaaaa." * 111_111,
    "--a --a": "--a " * 250_000,
    "BEGIN PRIVATE KEY repeated": "-----BEGIN PRIVATE KEY-----" * 37_037,
    "api key: api key:": "api key: " * 111_111,
    "AAAA": "A" * 1_000_000,
}


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_megabyte_of_near_matches_completes(text: str) -> None:
    redacted = DEFAULT_RULES.redact_text(text)
    assert redacted is text or REDACTION_MARKER in redacted


# (text, how many candidate secrets it holds): one rule family each, dense and sparse.
DENSE_ROWS = [
    ("pwd=x " * 5_000, 5_000),
    ("api key: a " * 3_000, 3_000),
    ("--password x " * 2_000, 2_000),
    ("sk-" + "a1" * 20 + " " + "x" * 600 + " ", 1),
    (" ".join(["ghp_" + "a" * 36] * 1_500), 1_500),
]


@pytest.mark.parametrize(("text", "held"), DENSE_ROWS, ids=[f"{text[:12]!r}x{held}" for text, held in DENSE_ROWS])
@pytest.mark.parametrize("allowance", [0, 10, 1_024])
def test_a_text_past_the_allowance_is_judged_no_further(text: str, held: int, allowance: int) -> None:
    # Finding stops once the allowance is passed: a megabyte of "pwd=x" costs what its first
    # allowance of candidates costs, not a list of every one of them.
    redacted, judged = DEFAULT_RULES.redact_text_within(text, allowance)
    if held > allowance:
        assert (redacted, judged) == (None, allowance + 1)
    else:
        assert redacted is not None and REDACTION_MARKER in redacted and judged == held


ALPHABET = st.sampled_from(
    ["password", "token", "key", "api", "_", "-", "=", ":", '"', "'", " ", "\n", "a", "B", "3", "://", "@",
     "Bearer ", "sk-", "eyJ", "AKIA", "x" * 20, "/", "&", ";", ",", "İ", "--", "max_tokens"]
)  # fmt: skip


def redact_with(text: str, short_text: int, sparse_shift: int) -> str:
    """``DEFAULT_RULES.redact_text`` with the search strategy's thresholds set."""
    saved = redaction._SHORT_TEXT, redaction._SPARSE_SHIFT
    try:
        redaction._SHORT_TEXT, redaction._SPARSE_SHIFT = short_text, sparse_shift
        return DEFAULT_RULES.redact_text(text)
    finally:
        redaction._SHORT_TEXT, redaction._SPARSE_SHIFT = saved


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=80).map("".join))
def test_any_text_is_handled_the_same_way_by_every_strategy(text: str) -> None:
    for candidate in (text, PROSE * 4 + text + PROSE * 4):
        one_pass = redact_with(candidate, short_text=-1, sparse_shift=62)
        assert redact_with(candidate, short_text=-1, sparse_shift=0) == one_pass  # each occurrence by itself
        assert redact_with(candidate, short_text=10**9, sparse_shift=62) == one_pass  # the short-text path
        assert DEFAULT_RULES.redact_text(candidate) == one_pass
        assert DEFAULT_RULES.redact_text(one_pass) == one_pass


def test_public_surface() -> None:
    assert redaction.__all__ == [
        "DEFAULT_RULES",
        "NO_REDACTION",
        "REDACTION_MARKER",
        "RULE_NAMES",
        "RedactionRules",
        "rules_from_environment",
    ]


# ---------------------------------------------------------------------------------------------
# Accuracy over the lists above (bench/bench_redaction.py prints the same counts, and the old
# exact-name list's for comparison).


def accuracy(rules: RedactionRules) -> dict[str, int]:
    return {
        "secret keys missed": sum(not rules.is_secret_key(key) for key in SECRET_KEYS),
        "keys falsely redacted": sum(rules.is_secret_key(key) for key, _ in NOT_SECRET_KEYS),
        "text secrets missed": sum(rules.redact_text(text) != expected for _, text, expected in TEXT_ROWS),
        "texts falsely redacted": sum(rules.redact_text(text) is not text for text, _ in NOT_SECRET_TEXTS),
    }


def test_accuracy_over_the_lists() -> None:
    assert accuracy(DEFAULT_RULES) == {
        "secret keys missed": 0,
        "keys falsely redacted": 0,
        "text secrets missed": 0,
        "texts falsely redacted": 0,
    }
