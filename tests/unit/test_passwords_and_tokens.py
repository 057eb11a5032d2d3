from datetime import UTC, datetime, timedelta

import jwt
import pytest

from chalicelib.auth.passwords import hash_password, password_problems, verify_password
from chalicelib.auth.tokens import decode_access_token, issue_access_token, new_refresh_token, new_reset_token
from chalicelib.core import clock
from chalicelib.core.config import DEFAULT_JWT_SECRET
from chalicelib.core.errors import Unauthorized

USER_ID = "5f0c7a1e-3b7e-4c55-9a43-0c2d7a9e1b11"
SESSION_ID = "0b0c7a1e-3b7e-4c55-9a43-0c2d7a9e1b22"
ADMIN_ID = "1a0c7a1e-3b7e-4c55-9a43-0c2d7a9e1b33"


def test_password_rules_are_reported_in_contract_order() -> None:
    assert password_problems("abc") == [
        "Password must be at least 8 characters",
        "Password must contain at least one uppercase letter",
        "Password must contain at least one digit",
        "Password must contain at least one special character",
    ]
    assert password_problems("Abcdefg1!") == []
    assert password_problems("A" * 100 + "a1!" + "x" * 30) == ["Password must be at most 128 characters"]


def test_letters_are_any_unicode_letters() -> None:
    assert password_problems("Ärger1ßß!") == []
    assert password_problems("ПАРОЛЬ12!") == ["Password must contain at least one lowercase letter"]


def test_every_character_counts_even_past_bcrypts_72_bytes() -> None:
    base = "Aa1!" + "ж" * 60  # 124 characters, 244 bytes of UTF-8
    stored = hash_password(base + "x", rounds=4)
    assert verify_password(base + "x", stored)
    assert not verify_password(base + "y", stored)


def test_verify_refuses_garbage_hashes() -> None:
    assert not verify_password("Abcdefg1!", "not-a-bcrypt-hash")


@pytest.fixture
def frozen() -> clock.ManualClock:
    manual = clock.ManualClock(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    previous = clock.use_clock(manual)
    yield manual
    clock.use_clock(previous)


def test_access_token_claims(frozen: clock.ManualClock) -> None:
    token = issue_access_token(USER_ID, "ada@example.com", SESSION_ID)
    claims = jwt.decode(token.token, options={"verify_signature": False})
    assert claims["iss"] == "vbwd-serverless" and claims["aud"] == "vbwd-api"
    assert claims["sub"] == claims["user_id"] == USER_ID
    assert claims["sid"] == SESSION_ID and claims["typ"] == "access" and claims["jti"] == token.jti
    assert claims["exp"] - claims["iat"] == 900 == token.expires_in
    assert "act" not in claims
    decoded = decode_access_token(token.token)
    assert (decoded.user_id, decoded.session_id, decoded.impersonator_id) == (USER_ID, SESSION_ID, None)


def test_impersonation_tokens_name_the_admin_and_live_600_seconds(frozen: clock.ManualClock) -> None:
    token = issue_access_token(USER_ID, "ada@example.com", SESSION_ID, impersonator_id=ADMIN_ID)
    assert token.expires_in == 600
    assert decode_access_token(token.token).impersonator_id == ADMIN_ID


def test_expiry_follows_the_system_clock_with_30_seconds_leeway(frozen: clock.ManualClock) -> None:
    token = issue_access_token(USER_ID, "ada@example.com", SESSION_ID).token
    frozen.advance(timedelta(seconds=929))
    assert decode_access_token(token).user_id == USER_ID
    frozen.advance(timedelta(seconds=2))
    with pytest.raises(Unauthorized, match="Invalid or expired token"):
        decode_access_token(token)


def test_a_token_from_the_future_is_refused(frozen: clock.ManualClock) -> None:
    token = issue_access_token(USER_ID, "ada@example.com", SESSION_ID).token
    frozen.advance(timedelta(seconds=-31))
    with pytest.raises(Unauthorized):
        decode_access_token(token)


def _forge(claims: dict, secret: str = DEFAULT_JWT_SECRET, algorithm: str = "HS256") -> str:
    base = {
        "iss": "vbwd-serverless",
        "aud": "vbwd-api",
        "sub": USER_ID,
        "user_id": USER_ID,
        "jti": "j1",
        "typ": "access",
        "sid": SESSION_ID,
        "iat": 1_777_626_000,
        "exp": 1_777_626_900,
    }
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, secret, algorithm=algorithm)


@pytest.mark.parametrize(
    "token",
    [
        _forge({}, secret="another-secret-that-is-long-enough-to-use"),
        _forge({"typ": "refresh"}),
        _forge({"iss": "someone-else"}),
        _forge({"aud": "another-api"}),
        _forge({"sid": None}),
        _forge({"user_id": "1a0c7a1e-3b7e-4c55-9a43-0c2d7a9e1b33"}),
        _forge({"sub": "not-a-uuid", "user_id": "not-a-uuid"}),
        _forge({}, algorithm="HS512"),
        jwt.encode({"sub": USER_ID}, key=None, algorithm="none"),
        "not.a.jwt",
    ],
)
def test_forged_or_foreign_tokens_are_refused(frozen: clock.ManualClock, token: str) -> None:
    with pytest.raises(Unauthorized, match="Invalid or expired token"):
        decode_access_token(token)


ISSUED = 1_777_626_000  # the frozen clock's now, as `_forge` issues by default


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": float(ISSUED + 900)},
        {"exp": ISSUED + 899.5},
        {"iat": ISSUED + 0.5},
        {"iat": float(ISSUED)},
        {"exp": str(ISSUED + 900)},
        {"iat": str(ISSUED)},
        {"exp": [ISSUED + 900]},
        {"iat": True},
    ],
    ids=["exp-float", "exp-fraction", "iat-fraction", "iat-float", "exp-string", "iat-string", "exp-list", "iat-bool"],
)
def test_issue_and_expiry_times_must_be_integers(frozen: clock.ManualClock, claims: dict) -> None:
    with pytest.raises(Unauthorized, match="Invalid or expired token"):
        decode_access_token(_forge(claims))


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": ISSUED + 901},
        {"iat": ISSUED - 1000},
        {"exp": ISSUED + 10 * 365 * 86400},
        {"exp": ISSUED},
        {"exp": ISSUED - 1, "iat": ISSUED},
        {"act": {"sub": ADMIN_ID}, "exp": ISSUED + 601},
        {"act": {"sub": ADMIN_ID}},
    ],
    ids=[
        "one-second-too-long",
        "issued-earlier",
        "ten-years",
        "zero",
        "negative",
        "impersonation-601",
        "impersonation-900",
    ],
)
def test_a_lifetime_beyond_the_configured_ttl_is_refused(frozen: clock.ManualClock, claims: dict) -> None:
    with pytest.raises(Unauthorized, match="Invalid or expired token"):
        decode_access_token(_forge(claims))


def test_lifetimes_up_to_the_configured_ttl_are_accepted(frozen: clock.ManualClock) -> None:
    assert decode_access_token(_forge({"exp": ISSUED + 900})).impersonator_id is None
    assert decode_access_token(_forge({"exp": ISSUED + 60})).impersonator_id is None
    impersonation = _forge({"act": {"sub": ADMIN_ID}, "exp": ISSUED + 600})
    assert decode_access_token(impersonation).impersonator_id == ADMIN_ID


def test_the_lifetime_limit_follows_the_configured_ttl(frozen: clock.ManualClock, monkeypatch) -> None:
    from chalicelib.core.config import reload_settings

    monkeypatch.setenv("ACCESS_TOKEN_TTL_SECONDS", "1800")
    reload_settings()
    try:
        assert decode_access_token(_forge({"exp": ISSUED + 1800})).user_id == USER_ID
        with pytest.raises(Unauthorized):
            decode_access_token(_forge({"exp": ISSUED + 1801}))
    finally:
        monkeypatch.undo()
        reload_settings()


def test_opaque_token_shapes() -> None:
    refresh = new_refresh_token()
    assert refresh.startswith("rt_") and len(refresh) == 46
    assert len(new_reset_token()) == 43
    assert new_refresh_token() != refresh
