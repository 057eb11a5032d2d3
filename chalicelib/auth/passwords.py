"""Password rules (contract auth.md §2.3) and bcrypt hashing.

bcrypt reads at most 72 bytes, and a 128-character password can be 512 bytes of UTF-8. So the password is first
condensed with SHA-256 (base64, 44 bytes) and that is what bcrypt hashes: every character stays significant and no
input is refused for its length.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

SPECIAL_CHARACTERS = set('!@#$%^&*(),.?":{}|<>')

RULES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("Password must be at least 8 characters", lambda p: len(p) >= 8),
    ("Password must be at most 128 characters", lambda p: len(p) <= 128),
    ("Password must contain at least one lowercase letter", lambda p: any(c.islower() for c in p)),
    ("Password must contain at least one uppercase letter", lambda p: any(c.isupper() for c in p)),
    ("Password must contain at least one digit", lambda p: any(c.isdigit() for c in p)),
    (
        "Password must contain at least one special character",
        lambda p: any(c in SPECIAL_CHARACTERS for c in p),
    ),
)


def password_problems(password: str) -> list[str]:
    """Every rule the password breaks, in the contract's order (empty when it is acceptable)."""
    return [message for message, holds in RULES if not holds(password)]


def _condensed(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password(password: str, rounds: int) -> str:
    import bcrypt

    return bcrypt.hashpw(_condensed(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    import bcrypt

    try:
        return bcrypt.checkpw(_condensed(password), password_hash.encode("ascii"))
    except ValueError:
        return False


_DUMMY_HASHES: dict[int, str] = {}


def dummy_hash(rounds: int) -> str:
    """A real hash to verify against when the account does not exist, so both answers take as long."""
    if rounds not in _DUMMY_HASHES:
        _DUMMY_HASHES[rounds] = hash_password("not-a-password-of-anyone", rounds)
    return _DUMMY_HASHES[rounds]
