"""The fallback DynamoDB of `make run` (no Java 17+): moto's server with its DynamoDB calls serialized.

Starts `python -m infra.moto_server` on a free port and races optimistic-lock transactions at it from many threads,
the way the ledger debits a balance: read the balance and its version, then one TransactWriteItems that writes the
new balance on the condition of that version and puts the entry of the new version. DynamoDB makes each transaction
atomic, so the balance always equals the start minus the committed debits and every debit has its entry; plain moto
interleaves the items of concurrent transactions and breaks both.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from infra.ports import free_port, stop_process, wait_for_port

pytestmark = pytest.mark.e2e
PROJECT_DIR = Path(__file__).resolve().parents[2]
SERVER_MODULE = "infra.moto_server"
START, DEBITS, THREADS = 1000, 120, 12
TABLE = "race"


@pytest.fixture(scope="module")
def fallback_endpoint() -> Any:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", SERVER_MODULE, "-H", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 30, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def dynamodb(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=THREADS * 2, retries={"max_attempts": 1}),
    )


def debit(client: Any, index: int) -> bool:
    for _ in range(200):
        item = client.get_item(TableName=TABLE, Key=key("BALANCE"), ConsistentRead=True)["Item"]
        balance, version = int(item["balance"]["N"]), int(item["version"]["N"])
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": TABLE,
                            "Key": key("BALANCE"),
                            "UpdateExpression": "SET balance = :new, version = :next",
                            "ConditionExpression": "version = :seen",
                            "ExpressionAttributeValues": {
                                ":new": {"N": str(balance - 1)},
                                ":next": {"N": str(version + 1)},
                                ":seen": {"N": str(version)},
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": TABLE,
                            "Item": {**key(f"ENTRY#{version + 1:06d}"), "debit": {"S": str(index)}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("TransactionCanceledException", "TransactionConflictException"):
                raise
    return False


def key(sort_key: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": "USER#1"}, "sk": {"S": sort_key}}


def test_concurrent_transactions_neither_lose_nor_invent_a_debit(fallback_endpoint: str) -> None:
    client = dynamodb(fallback_endpoint)
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName=TABLE, Item={**key("BALANCE"), "balance": {"N": str(START)}, "version": {"N": "0"}})

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        committed = sum(pool.map(lambda index: debit(client, index), range(DEBITS)))

    items = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "USER#1"}},
        ConsistentRead=True,
    )["Items"]
    balance = next(item for item in items if item["sk"]["S"] == "BALANCE")
    entries = [item for item in items if item["sk"]["S"].startswith("ENTRY#")]
    print(f"{committed} debits committed, {len(entries)} entries, balance {balance['balance']['N']}")
    assert committed == DEBITS
    assert len(entries) == committed
    assert int(balance["balance"]["N"]) == START - committed
    assert int(balance["version"]["N"]) == committed
    assert sorted(int(item["sk"]["S"][6:]) for item in entries) == list(range(1, committed + 1))
