"""The redaction layer (evalkit._secrets) and the writers it guards."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evalkit import _io
from evalkit._redact_table import redact_table
from evalkit._redacting_stream import RedactingStream
from evalkit._secrets import (
    find_secrets,
    is_secret_name,
    redact_options,
    redact_text,
)
from evalkit.errors import ConfigError
from evalkit.providers import ProviderError, redact

KEY = "sk-test-CANARY-5d1e0f77aa"


@pytest.mark.parametrize("text", [
    f"Incorrect API key provided: {KEY}.",
    "anthropic key sk-ant-api03-AbCdEfGhIjKlMnOp_qr",
    "Authorization: Bearer abcdefghijklmnop.qrst",
    '{"x-api-key": "zyxwvutsrqpo"}',
    "GET https://alice:s3cretpassw0rd@example.com/v1/models",
    "https://example.com/openai/deployments?api-version=2024&api-key=abcdef123456",
    "https://generativelanguage.googleapis.com/v1/models?key=AIzaSyA-1234567890abcdefghijklmnopqrstu",
    "api_key=abcdefgh1234",
    "Authorization: Basic dXNlcjpwYXNzd29yZA==", "curl -H 'Bearer abcdefghijklmnop1234'",
])
def test_key_shapes_are_masked(text):
    out = redact_text(text)
    assert out != text and "***" in out
    for fragment in ("CANARY", "AbCdEfGh", "abcdefghijklmnop", "zyxwvuts", "s3cret", "abcdef123456", "AIzaSy",
                     "abcdefgh1234"):
        assert fragment not in out
    assert redact_text(out) == out  # idempotent: redacting twice changes nothing more


@pytest.mark.parametrize("text", [
    "max_tokens=400, temperature 0.2", "a risk-averse customer", "http://127.0.0.1:8080/v1",
    "api_key_env: OPENAI_API_KEY", "the token count was 1200", "sk-learn", "https://example.com/a?page=2",
    # "basic" before an ordinary word: a plan, a config or a clause, not a credential
    "Basic subscribers keep 10% off until renewal", "- name: basic\n  provider: rules",
    "plans:\n  - name: basic\n    seat_price: {monthly: '9.00'}",
    # "authorization:" and "?token=" before a word: prose and wiki links in a prompt, not credentials
    "Explain the authorization: manager approval needed.", "see https://wiki.example/x?token=upgrade-flow",
])
def test_ordinary_text_is_left_alone(text):
    assert redact_text(text) == text


def test_values_of_key_variables_are_masked_whatever_their_shape(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "plainvalue-0001")
    monkeypatch.setenv("MY_GATEWAY_TOKEN", "gatewaysecret42")
    monkeypatch.setenv("CUSTOM_CRED", "customcred-777")
    monkeypatch.setenv("EVALKIT_SECRET_ENV", "CUSTOM_CRED")
    monkeypatch.setenv("SHORT_API_KEY", "abc")  # too short to be a key: ordinary text stays
    out = redact_text("a plainvalue-0001 b gatewaysecret42 c customcred-777 d abc")
    assert out == "a *** b *** c *** d abc"


def test_suite_api_key_env_names_become_secret(tmp_path, monkeypatch):
    from evalkit.suite import load_suite

    monkeypatch.setenv("LOOPBACK_CRED", "loopbackvalue99")
    monkeypatch.delenv("EVALKIT_SECRET_ENV", raising=False)
    (tmp_path / "p.j2").write_text("hi")
    (tmp_path / "s.yaml").write_text("name: s\ndataset: upgrades@v1\nconfigs:\n  - name: c\n    provider: openai\n"
                                     "    model: m\n    prompt: p.j2\n    options: {api_key_env: LOOPBACK_CRED}\n")
    assert redact_text("x loopbackvalue99") == "x loopbackvalue99"
    load_suite(tmp_path / "s.yaml")
    assert redact_text("x loopbackvalue99") == "x ***"


def test_secret_names_are_judged_by_word():
    assert all(is_secret_name(n) for n in ("api_key", "x-api-key", "Authorization", "Helicone-Auth", "access_token"))
    assert not any(is_secret_name(n) for n in ("max_tokens", "api_key_env", "top_logprobs", "base_url"))
    assert redact_options({"api_key": "x", "base_url": "https://u:pw123456@h/v1", "nested": {"token": "t"}}) == {
        "api_key": "***", "base_url": "https://***@h/v1", "nested": {"token": "***"}}
    assert redact({"secret": "x", "api_key_env": "OPENAI_API_KEY"}) == {"secret": "***", "api_key_env": "OPENAI_API_KEY"}


def test_find_secrets_names_where():
    found = dict(find_secrets({"configs": [{"options": {"base_url": "http://h/v1?key=abcdef123"},
                                            "params": {"extra_headers": {"x-api-key": "whatever"}}}],
                               "description": f"uses {KEY}"}))
    assert set(found) == {"configs[0].options.base_url", "configs[0].params.extra_headers.x-api-key", "description"}


def test_tables_are_redacted_in_strings_and_lists_only_where_needed():
    table = pa.table({"text": ["fine", f"echo {KEY}", None], "reasons": [["a"], ["Bearer abcdefghijkl"], []],
                      "n": [1, 2, 3]})
    out = redact_table(table)
    assert out.column("text").to_pylist() == ["fine", "echo sk-***", None]
    assert out.column("reasons").to_pylist() == [["a"], ["Bearer ***"], []]
    assert out.schema == table.schema
    clean = pa.table({"text": ["a", "b"]})
    assert redact_table(clean) is clean  # nothing to do: the same table, no copy


def test_every_io_writer_redacts(tmp_path):
    _io.write_text(tmp_path / "a.txt", f"key {KEY}")
    _io.write_json(tmp_path / "b.json", {"error": f"bad key {KEY}"})
    _io.write_bytes(tmp_path / "c.txt", f"key {KEY}".encode())
    _io.write_parquet(tmp_path / "d.parquet", pa.table({"m": [f"key {KEY}"]}))
    for name in ("a.txt", "b.json", "c.txt", "d.parquet"):
        assert KEY.encode() not in (tmp_path / name).read_bytes(), name
    assert json.loads((tmp_path / "b.json").read_text()) == {"error": "bad key sk-***"}
    assert pq.read_table(tmp_path / "d.parquet").column("m").to_pylist() == ["key sk-***"]


def test_exceptions_are_redacted_when_raised():
    assert KEY not in str(ConfigError(f"bad {KEY}"))
    assert KEY not in str(ProviderError(f"Incorrect API key provided: {KEY}", kind="auth_error"))


def test_stream_catches_a_key_split_across_writes():
    sink = io.StringIO()
    stream = RedactingStream(sink)
    stream.write("error: " + KEY[:9])
    stream.write(KEY[9:] + " rejected\nnext")
    assert sink.getvalue() == "error: sk-*** rejected\n"
    stream.flush()
    assert sink.getvalue().endswith("next") and KEY not in sink.getvalue()
    assert not hasattr(stream, "buffer")  # nothing can write around it


def test_suite_with_a_key_is_refused_naming_the_alternative(tmp_path):
    from evalkit.suite import load_suite

    (tmp_path / "p.j2").write_text("hi")
    (tmp_path / "s.yaml").write_text("name: s\ndataset: upgrades@v1\nconfigs:\n  - name: c\n    provider: openai\n"
                                     "    model: m\n    prompt: p.j2\n")
    with pytest.raises(ConfigError) as err:
        load_suite(tmp_path / "s.yaml", overrides={"configs.c.options.base_url": f"http://h/v1?api-key={KEY}"})
    assert "--set configs.c.options.base_url" in str(err.value) and "api_key_env" in str(err.value)
    assert KEY not in str(err.value)


def test_the_substring_screen_never_hides_a_key_the_full_pattern_finds():
    """_may_hold_key skips the per-shape passes only when _DETECT cannot match: checked on every
    key shape the tests know, embedded in prose and JSON, in mixed case."""
    import random

    from evalkit._secrets import _detector, _may_hold_key

    shapes = ["https://u:p@example.com", "http://x@h", "?api-key=abc", "&key=zz", ";token=q", "&access_token=t",
              "?sig=1", "&signature=2", "?secret=s", "?password=p", "?auth=a", "Bearer abcdefghij", "basic Zm9vOmJhcg==",
              "x-api-key: k", "API_KEY=v", "apikey: v", "Authorization: x", "access-token: t", "client_secret: c",
              "secret-key: k", "sk-abc123def456", "sk-ant-api03-xyz", "AIzaSyA" + "x" * 33, "ghp_" + "a" * 36,
              "hf_" + "b" * 34, "gsk_" + "c" * 24, "xai-" + "d" * 24, "AKIA" + "E" * 16]
    rng = random.Random(3)
    filler = "The customer asks for an upgrade; nothing secret-looking here. " * 5
    for shape in shapes:
        for variant in (shape, shape.upper(), shape.lower(), shape.swapcase()):
            for text in (variant, f"{filler}{variant} {filler}", json.dumps({"text": f"{filler}{variant}"})):
                if _detector().search(text) is not None:
                    assert _may_hold_key(text), text
    words = [w for w in filler.split() + shapes]
    for _ in range(2000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 12)))
        assert _may_hold_key(text) == (_detector().search(text) is not None), text


@pytest.mark.parametrize("where", ["config", "judge"])
def test_the_value_of_a_key_variable_only_the_suite_names_is_refused_in_the_suite(tmp_path, monkeypatch, where):
    """MYCORP_LLM is a key because the suite says so (api_key_env), not by its name: its value written into
    the same suite is refused like an OPENAI_API_KEY's, before the suite is validated or anything written."""
    from evalkit.suite import load_suite

    monkeypatch.setenv("MYCORP_LLM", "mycorpvalue-4242")
    monkeypatch.delenv("EVALKIT_SECRET_ENV", raising=False)
    (tmp_path / "p.j2").write_text("hi")
    judge = ("scoring:\n  judge:\n    provider: openai\n    model: m\n    options: {api_key_env: MYCORP_LLM}\n"
             if where == "judge" else "")
    options = "" if where == "judge" else "    options: {api_key_env: MYCORP_LLM}\n"
    (tmp_path / "s.yaml").write_text(
        "name: s\ndataset: upgrades@v1\nconfigs:\n  - name: c\n    provider: openai\n    model: m\n    prompt: p.j2\n"
        + options + "    description: 'ask ops; it is mycorpvalue-4242'\n" + judge)
    with pytest.raises(ConfigError) as err:
        load_suite(tmp_path / "s.yaml")
    assert "configs[0].description: holds the value of a key environment variable" in str(err.value)
    assert "mycorpvalue-4242" not in str(err.value)


def test_a_template_holding_a_keys_value_is_refused_naming_its_line(tmp_path, monkeypatch):
    """A key pasted into a prompt template (or a template it includes) would go to the model in every
    request: refused with the file and line, the key itself never shown."""
    from evalkit.suite import load_suite

    monkeypatch.setenv("MYCORP_LLM", "mycorpvalue-4242")
    monkeypatch.delenv("EVALKIT_SECRET_ENV", raising=False)
    (tmp_path / "s.yaml").write_text("name: s\ndataset: upgrades@v1\nconfigs:\n  - name: c\n    provider: openai\n"
                                     "    model: m\n    prompt: p.j2\n    options: {api_key_env: MYCORP_LLM}\n")
    (tmp_path / "p.j2").write_text("Decide the request.\n{% include 'footer.j2' %}\n")
    (tmp_path / "footer.j2").write_text("Be brief.\nIf stuck, call the API with mycorpvalue-4242.\n")
    with pytest.raises(ConfigError) as err:
        load_suite(tmp_path / "s.yaml")
    assert f"{tmp_path / 'footer.j2'}:2: refused" in str(err.value) and "mycorpvalue-4242" not in str(err.value)
    (tmp_path / "footer.j2").write_text("Be brief. Send the Authorization: Bearer header yourself.\n")
    assert load_suite(tmp_path / "s.yaml").suite.configs[0].name == "c"  # key-shaped words are prompt text


def test_a_rejected_base_url_is_shown_without_its_query_or_fragment():
    """``?code=...`` is not a key shape the redaction knows: the option error once printed it whole."""
    from evalkit.providers._options import NetworkOptions, check_options

    for url in ("http://127.0.0.1:9/v1?code=S3CRETVALUE99", "http://127.0.0.1:9/v1#S3CRETVALUE99"):
        with pytest.raises(ConfigError) as err:
            check_options("openai", NetworkOptions, {"base_url": url})
        assert "S3CRETVALUE99" not in str(err.value) and "http://127.0.0.1:9/v1" in str(err.value)


def test_a_dataset_attachment_is_published_byte_for_byte_or_refused(tmp_path, monkeypatch):
    """A catalogue is hashed in the dataset's manifest: redacting it on write published a version that
    failed its own hash check. Prose is kept verbatim; a key's value in it is refused, nothing published."""
    from evalkit.dataset import validate_path, write_dataset
    from evalkit.errors import DataError
    from evalkit.tasks import get_task

    task = get_task("upgrades")
    cases = list(task.generate(4, 1))
    store = tmp_path / "datasets"
    text = b"# Basic subscribers keep 10% off\nplans:\n  - name: basic\n    seat_price: 9\n"
    write_dataset(cases, name="toy", version="v1", task=task, store=store, attachments={"notes.yaml": text})
    assert (store / "toy" / "v1" / "notes.yaml").read_bytes() == text
    validate_path(store / "toy" / "v1", task, store=store)  # every hash checks out
    monkeypatch.setenv("MYCORP_API_KEY", "corp-secret-value-77")
    with pytest.raises(DataError, match=r"notes\.yaml:2: holds what looks like a credential"):
        write_dataset(cases, name="toy", version="v2", task=task, store=store,
                      attachments={"notes.yaml": b"plans:\n  key: corp-secret-value-77\n"})
    assert not (store / "toy" / "v2").exists()


def test_a_key_echoed_without_its_prefix_or_in_base64_is_masked(monkeypatch):
    """A server answering 401 with the key's body ('Invalid API key: CANARY...') or base64 of a header
    holding it left 28 of its 36 characters, and its base64 form, in the journal and the manifest."""
    import base64

    key = "sk-proj-CANARYopenai1234567890abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    body = key.removeprefix("sk-proj-")
    echoes = [f"Invalid API key: {body}", f"x-echo: {base64.b64encode(key.encode()).decode()}"]
    for prefix in ("", "u:", "ab:", "user:"):  # every byte alignment of the key inside what was encoded
        echoes.append("Basic " + base64.b64encode(f"{prefix}{key}".encode()).decode())
        echoes.append("token=" + base64.urlsafe_b64encode(f"{prefix}{key}".encode()).decode())
    for text in echoes:
        out = redact_text(text)
        assert body not in out and "CANARY" not in out, (text, out)
        for shift in range(3):  # no base64 run of 12+ characters of the key survives
            run = base64.b64encode(b"\0" * shift + key.encode()).decode()[4:-4]
            assert run[:12] not in out and run[-12:] not in out, (text, out)
    table = redact_table(pa.table({"error": [f"401: {body}", "fine"]}))
    assert table.column("error").to_pylist() == ["401: ***", "fine"]
    assert redact_text("the customer's plan code is openai1234") == "the customer's plan code is openai1234"


def test_a_key_set_with_surrounding_whitespace_is_masked_as_sent(monkeypatch):
    """Providers send the stripped value (a CI secret or $(cat keyfile) ends with a newline); redaction
    masked only the raw one, so a 401 quoting the key left it in every file of the run."""
    monkeypatch.setenv("OTHER_THING", "abcDEF123ghiJKL456mnoPQR789\n")
    monkeypatch.setenv("EVALKIT_SECRET_ENV", "OTHER_THING")
    assert redact_text("Incorrect API key provided: abcDEF123ghiJKL456mnoPQR789.") == "Incorrect API key provided: ***."


def test_a_short_keys_base64_is_masked_at_every_offset():
    import base64

    key = "Abcdef123456"  # 12 characters: keys of 8 and more are keys
    for prefix in ("", "u", "us", "user:"):
        encoded = base64.b64encode(f"{prefix}{key}".encode()).decode()
        out = redact_text(f"data {encoded}", values=(key,))
        assert "***" in out and encoded not in out, out  # it was left whole, decodable, at offsets 1, 2 and 5


@pytest.mark.parametrize("text", ["authorization: dXNlcjpwYXNzd29yZA", "GET /v1?token=ab12cd34ef56gh78"])
def test_credential_shaped_values_after_authorization_or_token_are_masked(text):
    assert "***" in redact_text(text)
