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


SERVICES = {
    "dynamodb": "AWS_ENDPOINT_URL_DYNAMODB",
    "sqs": "AWS_ENDPOINT_URL_SQS",
    "events": "AWS_ENDPOINT_URL_EVENTBRIDGE",
    "ses": "AWS_ENDPOINT_URL_SES",
    "ssm": "AWS_ENDPOINT_URL_SSM",
    "sns": "AWS_ENDPOINT_URL_SNS",
}


def test_no_endpoint_means_aws_itself() -> None:
    settings = Settings.from_environ({})
    assert all(settings.endpoint_for(service) is None for service in SERVICES)


def test_the_general_endpoint_serves_every_service() -> None:
    settings = Settings.from_environ({"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"})
    assert {settings.endpoint_for(service) for service in SERVICES} == {"http://127.0.0.1:4566"}


@pytest.mark.parametrize(("service", "variable"), SERVICES.items())
def test_a_service_endpoint_wins_over_the_general_one_for_that_service_only(service: str, variable: str) -> None:
    settings = Settings.from_environ({"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", variable: "http://127.0.0.1:8001"})
    assert settings.endpoint_for(service) == "http://127.0.0.1:8001"
    others = {settings.endpoint_for(other) for other in SERVICES if other != service}
    assert others == {"http://127.0.0.1:4566"}


def test_a_service_endpoint_needs_no_general_one() -> None:
    settings = Settings.from_environ({"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8001"})
    assert settings.endpoint_for("dynamodb") == "http://127.0.0.1:8001"
    assert settings.endpoint_for("sqs") is None


def test_an_empty_variable_counts_as_unset() -> None:
    settings = Settings.from_environ({"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_DYNAMODB": ""})
    assert settings.endpoint_for("dynamodb") == "http://127.0.0.1:4566"


def test_an_unknown_service_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="s3"):
        Settings.from_environ({}).endpoint_for("s3")


def test_the_dynamodb_engine_is_aws_unless_the_local_stack_names_another() -> None:
    assert Settings.from_environ({}).dynamodb_engine == "aws"
    assert Settings.from_environ({"DYNAMODB_ENGINE": "dynamodb-local"}).dynamodb_engine == "dynamodb-local"
    assert Settings.from_environ({"DYNAMODB_ENGINE": "moto"}).dynamodb_engine == "moto"
    with pytest.raises(ValidationError):
        Settings.from_environ({"DYNAMODB_ENGINE": "sqlite"})


def test_every_client_is_built_on_its_service_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.core.aws import aws_client, reset_clients
    from chalicelib.core.config import get_settings, reload_settings
    from chalicelib.store import connection
    from chalicelib.store.base import _meta
    from infra.bootstrap import _client

    general, dynamodb, sqs = "http://127.0.0.1:4566", "http://127.0.0.1:8001", "http://127.0.0.1:9324"
    monkeypatch.setenv("AWS_ENDPOINT_URL", general)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", sqs)
    reload_settings(), reset_clients(), connection.reset_connection()
    try:
        assert aws_client("events").meta.endpoint_url == general
        assert aws_client("ses").meta.endpoint_url == general
        assert aws_client("sqs").meta.endpoint_url == sqs
        assert connection.client().meta.endpoint_url == dynamodb
        assert _meta("users").host == dynamodb
        assert _client("dynamodb", get_settings()).meta.endpoint_url == dynamodb
        assert _client("events", get_settings()).meta.endpoint_url == general
    finally:
        monkeypatch.undo()
        reload_settings(), reset_clients(), connection.reset_connection()
