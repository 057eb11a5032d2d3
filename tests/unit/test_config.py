import pytest
from pydantic import ValidationError

from chalicelib.core.config import DEFAULT_JWT_SECRET, DEFAULT_PAYMENT_WEBHOOK_SECRET, Settings

STRONG = "s" * 48


def test_local_defaults() -> None:
    settings = Settings.from_environ({})
    assert settings.stage == "local"
    assert settings.prefix == "vbwd-local"
    assert settings.table_name("users") == "vbwd-local-users"
    assert settings.queue_name("mail") == "vbwd-local-mail"
    assert settings.event_bus_name == "vbwd-local"
    assert settings.allowed_origins == ["*"]
    assert settings.is_sandbox_enabled
    assert settings.access_token_ttl_seconds == 900


def test_prod_refuses_the_default_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="default JWT_SECRET"):
        Settings.from_environ({"VBWD_STAGE": "prod", "PAYMENT_WEBHOOK_SECRETS": STRONG})


def test_prod_refuses_the_default_payment_webhook_secret() -> None:
    env = {
        "VBWD_STAGE": "prod",
        "JWT_SECRET": STRONG,
        "PAYMENT_WEBHOOK_SECRETS": f"{STRONG},{DEFAULT_PAYMENT_WEBHOOK_SECRET}",
    }
    with pytest.raises(ValidationError, match="PAYMENT_WEBHOOK_SECRETS"):
        Settings.from_environ(env)


def test_prod_starts_with_real_secrets() -> None:
    settings = Settings.from_environ({"VBWD_STAGE": "prod", "JWT_SECRET": STRONG, "PAYMENT_WEBHOOK_SECRETS": STRONG})
    assert settings.stage == "prod"
    assert settings.allowed_origins == []
    assert not settings.is_sandbox_enabled


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_deployed_stage_refuses_the_default_jwt_secret(stage: str) -> None:
    with pytest.raises(ValidationError, match=f"The {stage} stage refuses to start with the default JWT_SECRET"):
        Settings.from_environ({"VBWD_STAGE": stage, "PAYMENT_WEBHOOK_SECRETS": STRONG})
    with pytest.raises(ValidationError, match="default JWT_SECRET"):
        Settings.from_environ(
            {"VBWD_STAGE": stage, "JWT_SECRET": DEFAULT_JWT_SECRET, "PAYMENT_WEBHOOK_SECRETS": STRONG}
        )


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_deployed_stage_refuses_the_default_payment_webhook_secret(stage: str) -> None:
    for secrets in ("", DEFAULT_PAYMENT_WEBHOOK_SECRET, f"{STRONG},{DEFAULT_PAYMENT_WEBHOOK_SECRET}"):
        environ = {"VBWD_STAGE": stage, "JWT_SECRET": STRONG}
        if secrets:
            environ["PAYMENT_WEBHOOK_SECRETS"] = secrets
        with pytest.raises(ValidationError, match=f"The {stage} stage refuses .* default PAYMENT_WEBHOOK_SECRETS"):
            Settings.from_environ(environ)


def test_dev_starts_with_real_secrets_and_keeps_the_sandbox() -> None:
    settings = Settings.from_environ({"VBWD_STAGE": "dev", "JWT_SECRET": STRONG, "PAYMENT_WEBHOOK_SECRETS": STRONG})
    assert settings.stage == "dev"
    assert settings.is_sandbox_enabled


def test_only_the_local_stage_accepts_the_development_secrets() -> None:
    settings = Settings.from_environ({"VBWD_STAGE": "local"})
    assert settings.jwt_secret.get_secret_value() == DEFAULT_JWT_SECRET
    assert [s.get_secret_value() for s in settings.payment_webhook_secrets] == [DEFAULT_PAYMENT_WEBHOOK_SECRET]


def test_short_secrets_are_refused_in_every_stage() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings.from_environ({"JWT_SECRET": "short"})


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings.from_environ({"VBWD_STAGE": "staging"})


def test_environment_strings_are_coerced() -> None:
    settings = Settings.from_environ(
        {
            "ACCESS_TOKEN_TTL_SECONDS": "120",
            "RATE_LIMIT_ENABLED": "false",
            "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example",
            "VBWD_RESOURCE_PREFIX": "acme",
        }
    )
    assert settings.access_token_ttl_seconds == 120
    assert settings.rate_limit_enabled is False
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]
    assert settings.table_name("outbox") == "acme-outbox"


def test_sandbox_can_be_switched_off_but_never_on_in_prod() -> None:
    assert not Settings.from_environ({"SANDBOX_ENABLED": "false"}).is_sandbox_enabled
    prod = {"VBWD_STAGE": "prod", "JWT_SECRET": STRONG, "PAYMENT_WEBHOOK_SECRETS": STRONG, "SANDBOX_ENABLED": "true"}
    assert not Settings.from_environ(prod).is_sandbox_enabled


def test_default_secret_is_long_enough_for_local_use() -> None:
    assert len(DEFAULT_JWT_SECRET.encode()) >= 32
