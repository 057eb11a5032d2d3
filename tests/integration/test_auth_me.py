"""GET /api/v1/auth/me (contract auth.md §1.1, §1.4, §3.4) and the 401 table of README §1.3.

Shared seeded account: status changes and deletions only touch users the test registered.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest

from chalicelib.auth.sessions import open_impersonation_session
from chalicelib.core import clock
from chalicelib.core.config import DEFAULT_JWT_SECRET
from chalicelib.core.ids import seed_id
from chalicelib.store.transactions import Transaction
from chalicelib.users.models import UserItem
from chalicelib.users.repository import find_user

ME = "/api/v1/auth/me"
PASSWORD = "Secret123!"
HEADER_REQUIRED = {"error": "Authorization header is required"}
BAD_FORMAT = {"error": "Invalid Authorization header format"}
INVALID_TOKEN = {"error": "Invalid or expired token"}
ADMIN_ID = seed_id("user", "admin@example.com")


def register(api) -> dict[str, Any]:
    email = f"me-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    return answer.json  # type: ignore[no-any-return]


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})  # type: ignore[no-any-return]


def forge(token: str, *, secret: str = DEFAULT_JWT_SECRET, algorithm: str = "HS256", **changes: Any) -> str:
    """The token's claims with `changes` applied (a value of None drops the claim), signed as told."""
    claims = claims_of(token)
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, secret, algorithm=algorithm)


def impersonation_token(user_id: str, admin_id: str = ADMIN_ID) -> str:
    tx = Transaction()
    issued = open_impersonation_session(tx, find_user(user_id), admin_id, clock.now())
    tx.commit()
    return issued.access.token


def set_status(user_id: str, status: str) -> None:
    find_user(user_id).update(actions=[UserItem.status.set(status)])


def me(api, token: str | None = None, header: str | None = None):
    headers = {"Authorization": header} if header is not None else None
    return api.get(ME, token=token, headers=headers)


# --- success ---------------------------------------------------------------------------------------------------


def test_me_is_the_flat_login_user_object_plus_status_and_impersonator(api):
    login = api.login("test@example.com", "TestPass123@")
    answer = me(api, login["token"])
    assert answer.status == 200
    assert answer.json == {**login["user"], "status": "ACTIVE", "impersonator": None}
    assert answer.json["name"] == "Test User"


def test_me_of_an_admin(api):
    login = api.login("observer@example.com", "ObserverPass123@")
    body = me(api, login["token"]).json
    assert body == {**login["user"], "status": "ACTIVE", "impersonator": None}
    assert body["is_admin"] is True


def test_me_of_a_new_user(api):
    registered = register(api)
    assert me(api, registered["token"]).json == {**registered["user"], "status": "ACTIVE", "impersonator": None}


def test_answers_to_requests_with_a_credential_are_not_cached(api):
    registered = register(api)
    assert me(api, registered["token"]).headers["cache-control"] == "no-store"
    assert me(api, header="Bearer nope").headers["cache-control"] == "no-store"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_the_scheme_is_case_insensitive(api, scheme):
    registered = register(api)
    assert me(api, header=f"{scheme} {registered['token']}").status == 200


def test_an_impersonation_token_names_the_admin(api):
    registered = register(api)
    token = impersonation_token(registered["user_id"])
    claims = claims_of(token)
    assert claims["act"] == {"sub": ADMIN_ID}
    assert claims["sub"] == registered["user_id"]
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 600
    assert claims["sid"] != claims_of(registered["token"])["sid"]

    answer = me(api, token)
    assert answer.status == 200
    assert answer.json == {
        **registered["user"],
        "status": "ACTIVE",
        "impersonator": {"id": ADMIN_ID, "email": "admin@example.com"},
    }


def test_requests_with_an_impersonation_token_are_audited_with_both_ids(api):
    from chalicelib.activity.models import ActivityItem

    registered = register(api)
    assert me(api, impersonation_token(registered["user_id"])).status == 200

    entries = [e for e in ActivityItem.gsi1.query("SOURCE#admin") if e.subject_id == registered["user_id"]]
    assert len(entries) == 1
    [entry] = entries
    assert (entry.type, entry.actor_type, entry.actor_id) == ("admin.impersonated_request", "admin", ADMIN_ID)
    assert entry.description == f"GET /api/v1/auth/me as {registered['user']['email']}"
    assert entry.data == {
        "method": "GET",
        "path": "/api/v1/auth/me",
        "admin_id": ADMIN_ID,
        "user_id": registered["user_id"],
    }


def test_an_impersonation_token_lives_600_seconds(api, manual_clock):
    registered = register(api)
    token = impersonation_token(registered["user_id"])
    manual_clock.advance(timedelta(seconds=630))
    assert me(api, token).status == 200
    manual_clock.advance(timedelta(seconds=1))
    assert me(api, token).json == INVALID_TOKEN


# --- 401: the header -------------------------------------------------------------------------------------------


def test_no_authorization_header(api):
    answer = me(api)
    assert answer.status == 401
    assert answer.json == HEADER_REQUIRED
    assert answer.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    "header", ["Basic abc", "Bearer", "Bearer ", "Bearer a b", "Token abc", "Bearer  abc", "abc", "Bearer\tabc"]
)
def test_a_header_that_is_not_bearer_token(api, header):
    answer = me(api, header=header)
    assert answer.status == 401
    assert answer.json == BAD_FORMAT


# --- 401: the token --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["abc", "abc.def.ghi", "eyJhbGciOiJIUzI1NiJ9.e30.", "a.b"])
def test_malformed_tokens(api, token):
    answer = me(api, token)
    assert answer.status == 401
    assert answer.json == INVALID_TOKEN


def test_a_token_signed_with_another_secret(api):
    token = register(api)["token"]
    assert me(api, forge(token, secret="another-secret-that-is-long-enough-for-hs256")).json == INVALID_TOKEN


def test_an_unsigned_token(api):
    token = register(api)["token"]
    unsigned = jwt.encode(claims_of(token), None, algorithm="none")
    assert jwt.get_unverified_header(unsigned)["alg"] == "none"
    assert me(api, unsigned).json == INVALID_TOKEN


def test_an_unsigned_token_with_a_trailing_signature_part(api):
    token = register(api)["token"]
    head, payload, _ = jwt.encode(claims_of(token), None, algorithm="none").split(".")
    assert me(api, f"{head}.{payload}.{token.split('.')[2]}").json == INVALID_TOKEN


@pytest.mark.filterwarnings("ignore:The HMAC key")
def test_another_algorithm_with_the_right_secret(api):
    token = register(api)["token"]
    assert me(api, forge(token, algorithm="HS512")).json == INVALID_TOKEN


def test_a_resigned_token_without_changes_is_accepted(api):
    """The forging helper itself yields working tokens, so the refusals below are about the changed claim."""
    token = register(api)["token"]
    assert me(api, forge(token)).status == 200


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "someone-else"},
        {"aud": "another-api"},
        {"typ": "refresh"},
        {"typ": "reset"},
        {"typ": None},
        {"iss": None},
        {"aud": None},
        {"exp": None},
        {"iat": None},
        {"jti": None},
        {"sid": None},
        {"sub": None},
        {"user_id": None},
        {"sub": "not-a-uuid"},
        {"sid": "not-a-uuid"},
        {"exp": "soon"},
        {"act": {"sub": "not-a-uuid"}},
        {"act": "admin"},
    ],
)
def test_tokens_with_wrong_or_missing_claims(api, changes):
    token = register(api)["token"]
    answer = me(api, forge(token, **changes))
    assert answer.status == 401
    assert answer.json == INVALID_TOKEN


def test_a_token_whose_user_id_differs_from_its_subject(api):
    first, second = register(api), register(api)
    assert me(api, forge(first["token"], user_id=second["user_id"])).json == INVALID_TOKEN


def test_a_token_naming_another_users_session(api):
    first, second = register(api), register(api)
    borrowed_sid = claims_of(second["token"])["sid"]
    assert me(api, forge(first["token"], sid=borrowed_sid)).json == INVALID_TOKEN


def test_a_token_of_an_unknown_session(api):
    token = register(api)["token"]
    assert me(api, forge(token, sid=str(uuid.uuid4()))).json == INVALID_TOKEN


def test_an_access_token_expires_after_900_seconds_plus_30_seconds_leeway(api, manual_clock):
    token = register(api)["token"]
    manual_clock.advance(timedelta(seconds=930))
    assert me(api, token).status == 200
    manual_clock.advance(timedelta(seconds=1))
    answer = me(api, token)
    assert answer.status == 401
    assert answer.json == INVALID_TOKEN


def test_a_token_issued_in_the_future_beyond_the_leeway(api):
    token = register(api)["token"]
    claims = claims_of(token)
    assert me(api, forge(token, iat=claims["iat"] + 20)).status == 200
    assert me(api, forge(token, iat=claims["iat"] + 60)).json == INVALID_TOKEN


@pytest.mark.parametrize(
    "change",
    [
        lambda c: {"exp": float(c["exp"])},
        lambda c: {"exp": c["exp"] - 0.5},
        lambda c: {"iat": c["iat"] + 0.25},
        lambda c: {"exp": str(c["exp"])},
        lambda c: {"iat": str(c["iat"])},
    ],
    ids=["exp-float", "exp-fraction", "iat-fraction", "exp-string", "iat-string"],
)
def test_issue_and_expiry_times_that_are_not_integers(api, change):
    token = register(api)["token"]
    assert me(api, forge(token, **change(claims_of(token)))).json == INVALID_TOKEN


def test_a_token_that_lives_longer_than_the_access_token_ttl(api):
    token = register(api)["token"]
    claims = claims_of(token)
    assert me(api, forge(token, exp=claims["exp"] + 1)).json == INVALID_TOKEN
    assert me(api, forge(token, exp=claims["exp"] + 365 * 86400)).json == INVALID_TOKEN
    assert me(api, forge(token, iat=claims["iat"] - 3600)).json == INVALID_TOKEN
    assert me(api, forge(token, exp=claims["exp"] - 1)).status == 200


def test_an_impersonation_token_that_lives_longer_than_600_seconds(api):
    token = impersonation_token(register(api)["user_id"])
    claims = claims_of(token)
    assert claims["exp"] - claims["iat"] == 600
    assert me(api, forge(token, exp=claims["exp"] + 1)).json == INVALID_TOKEN
    assert me(api, forge(token, exp=claims["exp"] + 300)).json == INVALID_TOKEN
    assert me(api, forge(token)).status == 200


# --- 401: the user ---------------------------------------------------------------------------------------------


def test_a_token_of_an_unknown_user(api):
    token = register(api)["token"]
    stranger = str(uuid.uuid4())
    answer = me(api, forge(token, sub=stranger, user_id=stranger))
    assert answer.status == 401
    assert answer.json == {"error": "User not found"}


def test_a_token_of_a_deleted_user_record(api):
    registered = register(api)
    find_user(registered["user_id"]).delete()
    answer = me(api, registered["token"])
    assert answer.status == 401
    assert answer.json == {"error": "User not found"}


@pytest.mark.parametrize("status", ["SUSPENDED", "PENDING", "DELETED"])
def test_a_user_who_is_no_longer_active(api, status):
    registered = register(api)
    set_status(registered["user_id"], status)
    answer = me(api, registered["token"])
    assert answer.status == 401
    assert answer.json == {"error": "User account is not active"}
    set_status(registered["user_id"], "ACTIVE")
    assert me(api, registered["token"]).status == 200


def test_user_routes_answer_the_same_401s(api):
    registered = register(api)
    path = "/api/v1/user/profile"
    assert api.get(path).json == HEADER_REQUIRED
    assert api.get(path, headers={"Authorization": "Basic abc"}).json == BAD_FORMAT
    assert api.get(path, token=forge(registered["token"], aud="x")).json == INVALID_TOKEN
    set_status(registered["user_id"], "SUSPENDED")
    assert api.get(path, token=registered["token"]).json == {"error": "User account is not active"}
