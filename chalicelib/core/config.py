"""Stage-aware settings.

Every value comes from the environment; Chalice puts each stage's variables from `.chalice/config.json` there, and
AWS deployments add their secrets (resolved from SSM / Secrets Manager by the deployment). Every stage but `local`
refuses to start with the development defaults of its secrets.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

Stage = Literal["local", "dev", "prod"]
# Which DynamoDB serves the stage: AWS itself, or what `make run` started (infra/run_local.py) or was pointed at.
DynamoDBEngine = Literal["aws", "dynamodb-local", "moto", "external"]

# botocore client name → the field of its per-service endpoint (botocore's own variable names, see `endpoint_for`).
_SERVICE_ENDPOINT_FIELDS = {
    "dynamodb": "aws_endpoint_url_dynamodb",
    "sqs": "aws_endpoint_url_sqs",
    "events": "aws_endpoint_url_eventbridge",
    "ses": "aws_endpoint_url_ses",
    "ssm": "aws_endpoint_url_ssm",
    "sns": "aws_endpoint_url_sns",
}

# Development defaults. They are fine on a laptop and refused by every stage but `local`.
DEFAULT_JWT_SECRET = "vbwd-local-development-jwt-secret-not-for-production"
DEFAULT_PAYMENT_WEBHOOK_SECRET = "whsec_local_payment_webhook"
MIN_SECRET_BYTES = 32


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseModel):
    """Validated from the process environment by `Settings.from_environ` (see module docstring)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    stage: Stage = Field("local", validation_alias=AliasChoices("VBWD_STAGE", "stage"))
    service_version: str = Field("0.1.0", validation_alias=AliasChoices("SERVICE_VERSION", "service_version"))

    # AWS wiring. `aws_endpoint_url` points every client at an emulator (moto server, LocalStack); a per-service
    # endpoint (botocore's `AWS_ENDPOINT_URL_<SERVICE>` names) wins over it for that service (`endpoint_for`).
    aws_region: str = Field("us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    aws_endpoint_url: str | None = Field(None, validation_alias=AliasChoices("AWS_ENDPOINT_URL"))
    aws_endpoint_url_dynamodb: str | None = Field(None, validation_alias=AliasChoices("AWS_ENDPOINT_URL_DYNAMODB"))
    aws_endpoint_url_sqs: str | None = Field(None, validation_alias=AliasChoices("AWS_ENDPOINT_URL_SQS"))
    aws_endpoint_url_eventbridge: str | None = Field(
        None, validation_alias=AliasChoices("AWS_ENDPOINT_URL_EVENTBRIDGE")
    )
    aws_endpoint_url_ses: str | None = Field(None, validation_alias=AliasChoices("AWS_ENDPOINT_URL_SES"))
    aws_endpoint_url_ssm: str | None = Field(None, validation_alias=AliasChoices("AWS_ENDPOINT_URL_SSM"))
    aws_endpoint_url_sns: str | None = Field(None, validation_alias=AliasChoices("AWS_ENDPOINT_URL_SNS"))
    dynamodb_engine: DynamoDBEngine = Field("aws", validation_alias=AliasChoices("DYNAMODB_ENGINE"))
    resource_prefix: str | None = Field(None, validation_alias=AliasChoices("VBWD_RESOURCE_PREFIX"))

    # Access tokens (contract auth.md §1).
    jwt_secret: SecretStr = Field(SecretStr(DEFAULT_JWT_SECRET), validation_alias=AliasChoices("JWT_SECRET"))
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = Field("HS256", validation_alias=AliasChoices("JWT_ALGORITHM"))
    jwt_issuer: str = Field("vbwd-serverless", validation_alias=AliasChoices("JWT_ISSUER"))
    jwt_audience: str = Field("vbwd-api", validation_alias=AliasChoices("JWT_AUDIENCE"))
    access_token_ttl_seconds: int = Field(900, ge=60, validation_alias=AliasChoices("ACCESS_TOKEN_TTL_SECONDS"))
    impersonation_token_ttl_seconds: int = Field(
        600, ge=60, validation_alias=AliasChoices("IMPERSONATION_TOKEN_TTL_SECONDS")
    )
    refresh_token_ttl_seconds: int = Field(
        30 * 86400, ge=300, validation_alias=AliasChoices("REFRESH_TOKEN_TTL_SECONDS")
    )
    refresh_family_max_age_seconds: int = Field(
        90 * 86400, ge=300, validation_alias=AliasChoices("REFRESH_FAMILY_MAX_AGE_SECONDS")
    )
    token_leeway_seconds: int = Field(30, ge=0, validation_alias=AliasChoices("TOKEN_LEEWAY_SECONDS"))
    password_reset_ttl_seconds: int = Field(3600, validation_alias=AliasChoices("PASSWORD_RESET_TTL_SECONDS"))
    bcrypt_rounds: int = Field(12, ge=4, le=16, validation_alias=AliasChoices("BCRYPT_ROUNDS"))

    # HTTP.
    cors_allowed_origins: list[str] | None = Field(None, validation_alias=AliasChoices("CORS_ALLOWED_ORIGINS"))
    max_body_bytes: int = Field(1_048_576, validation_alias=AliasChoices("MAX_BODY_BYTES"))

    # Rate limits (contract README §1.9).
    rate_limit_enabled: bool = Field(True, validation_alias=AliasChoices("RATE_LIMIT_ENABLED"))
    rate_limit_per_hour: int = Field(2000, ge=1, validation_alias=AliasChoices("RATE_LIMIT_PER_HOUR"))
    rate_limit_per_day: int = Field(10000, ge=1, validation_alias=AliasChoices("RATE_LIMIT_PER_DAY"))
    auth_rate_limit_per_minute: int = Field(5000, ge=1, validation_alias=AliasChoices("AUTH_RATE_LIMIT_PER_MINUTE"))
    login_failure_limit: int = Field(10, ge=1, validation_alias=AliasChoices("LOGIN_FAILURE_LIMIT"))
    login_failure_window_seconds: int = Field(900, ge=1, validation_alias=AliasChoices("LOGIN_FAILURE_WINDOW_SECONDS"))
    forgot_password_per_hour: int = Field(5, ge=1, validation_alias=AliasChoices("FORGOT_PASSWORD_PER_HOUR"))

    # Mail.
    mail_from: str = Field("billing@vbwd.local", validation_alias=AliasChoices("MAIL_FROM"))
    reset_url_base: str = Field("http://localhost:5173/reset-password", validation_alias=AliasChoices("RESET_URL_BASE"))
    default_language: str = Field("en", validation_alias=AliasChoices("DEFAULT_LANGUAGE"))

    # Payments. Providers count as "configured" only when their keys are present.
    payment_webhook_secrets: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr(DEFAULT_PAYMENT_WEBHOOK_SECRET)],
        validation_alias=AliasChoices("PAYMENT_WEBHOOK_SECRETS"),
    )
    sandbox_enabled: bool | None = Field(None, validation_alias=AliasChoices("SANDBOX_ENABLED"))
    stripe_secret_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("STRIPE_SECRET_KEY", "STRIPE_TEST_SECRET_KEY")
    )
    stripe_webhook_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("STRIPE_WEBHOOK_SECRET", "STRIPE_TEST_WEBHOOK_SECRET")
    )
    paypal_client_id: str | None = Field(
        None, validation_alias=AliasChoices("PAYPAL_CLIENT_ID", "PAYPAL_TEST_CLIENT_ID")
    )
    paypal_client_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("PAYPAL_CLIENT_SECRET", "PAYPAL_TEST_CLIENT_SECRET")
    )
    yookassa_shop_id: str | None = Field(None, validation_alias=AliasChoices("YOOKASSA_SHOP_ID"))
    yookassa_secret_key: SecretStr | None = Field(None, validation_alias=AliasChoices("YOOKASSA_SECRET_KEY"))
    stripe_publishable_key: str | None = Field(
        None, validation_alias=AliasChoices("STRIPE_PUBLISHABLE_KEY", "STRIPE_TEST_PUBLISHABLE_KEY")
    )
    paypal_webhook_id: str | None = Field(
        None, validation_alias=AliasChoices("PAYPAL_WEBHOOK_ID", "PAYPAL_TEST_WEBHOOK_ID")
    )
    # Where the provider's hosted page sends a buyer back when the request names no allowed origin (§10.1).
    frontend_base_url: str = Field("http://localhost:5173", validation_alias=AliasChoices("FRONTEND_BASE_URL"))
    # Where a provider's API is when it is not the vendor's own: the local emulators (infra/emulators/).
    stripe_api_base: str | None = Field(None, validation_alias=AliasChoices("STRIPE_API_BASE"))
    paypal_api_base: str | None = Field(None, validation_alias=AliasChoices("PAYPAL_API_BASE"))
    yookassa_api_base: str | None = Field(None, validation_alias=AliasChoices("YOOKASSA_API_BASE"))
    # The sources YooKassa notifications are accepted from when the plugin config names none (§10.6).
    yookassa_allowed_ips: list[str] | None = Field(None, validation_alias=AliasChoices("YOOKASSA_ALLOWED_IPS"))

    # The prod seed creates its first SUPER_ADMIN from these (seed-data.md §1).
    initial_admin_email: str | None = Field(None, validation_alias=AliasChoices("INITIAL_ADMIN_EMAIL"))
    initial_admin_password: SecretStr | None = Field(None, validation_alias=AliasChoices("INITIAL_ADMIN_PASSWORD"))

    @field_validator("cors_allowed_origins", "payment_webhook_secrets", "yookassa_allowed_ips", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        secret = self.jwt_secret.get_secret_value()
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        if self.stage != "local":  # a deployed stage is reachable by others: development secrets are public
            if secret == DEFAULT_JWT_SECRET:
                raise ValueError(f"The {self.stage} stage refuses to start with the default JWT_SECRET")
            if any(s.get_secret_value() == DEFAULT_PAYMENT_WEBHOOK_SECRET for s in self.payment_webhook_secrets):
                raise ValueError(f"The {self.stage} stage refuses to start with the default PAYMENT_WEBHOOK_SECRETS")
        return self

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables (names are the upper-case aliases above).

        pydantic coerces the strings ("900" → 900, "true" → True); lists are comma-separated. We validate the
        environment with a plain model rather than pydantic-settings: the latter adds ~120 ms to every cold start
        for features (dotenv files, CLI parsing, secrets directories) a Lambda function never uses.
        """
        source = os.environ if environ is None else environ
        return cls.model_validate({key: value for key, value in source.items() if key.isupper()})

    # Derived values -------------------------------------------------------------------------------------------

    def endpoint_for(self, service: str) -> str | None:
        """The endpoint of a botocore client (`dynamodb`, `sqs`, `events`, `ses`, `ssm`, `sns`); None means AWS.

        The service's own variable wins over `AWS_ENDPOINT_URL`, as in botocore, so one service can run on
        another engine (DynamoDB Local next to moto's server) without code changes. Empty values count as unset.
        """
        field = _SERVICE_ENDPOINT_FIELDS.get(service)
        if field is None:
            raise ValueError(f"No endpoint setting for the AWS service {service!r}")
        specific: str | None = getattr(self, field)
        return specific or self.aws_endpoint_url or None

    @property
    def prefix(self) -> str:
        """Prefix of every AWS resource name of this stage (`vbwd-local-users`, `vbwd-prod-outbox` …)."""
        return self.resource_prefix or f"vbwd-{self.stage}"

    def table_name(self, logical_name: str) -> str:
        return f"{self.prefix}-{logical_name}"

    def queue_name(self, consumer: str, *, fifo: bool = False) -> str:
        """`vbwd-<stage>-<consumer>`; FIFO queues end in `.fifo`, as SQS requires."""
        return f"{self.prefix}-{consumer}{'.fifo' if fifo else ''}"

    @property
    def event_bus_name(self) -> str:
        return self.prefix

    @property
    def allowed_origins(self) -> list[str]:
        if self.cors_allowed_origins is not None:
            return self.cors_allowed_origins
        return ["*"] if self.stage == "local" else []

    @property
    def is_sandbox_enabled(self) -> bool:
        if self.sandbox_enabled is not None:
            return self.sandbox_enabled and self.stage != "prod"
        return self.stage in ("local", "dev")


@functools.cache
def get_settings() -> Settings:
    return Settings.from_environ()


def reload_settings() -> Settings:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
    return get_settings()
