"""The packaged template holds every resource infra/resources.py declares, wired the way the code uses it.

The template is built as `make package-lint` builds it (`infra.package --template-only`: Chalice's real output
without vendored dependencies), so a table, queue, rule or job added to the code and missing from the deployment
fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import AliasChoices

from chalicelib.core.config import Settings
from infra import package, resources

PROD = package.stage_settings("prod")
SEED_ONLY = {"INITIAL_ADMIN_PASSWORD"}  # read by the seed on a workstation, never by a function


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = package.build("prod", tmp_path_factory.mktemp("package"), template_only=True)
    assert sorted(p.name for p in path.parent.iterdir()) == ["template.json"]
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def named(template: dict[str, Any], kind: str, key: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Resources of a type by their physical name property, with their logical ids."""
    return {r["Properties"][key]: (logical_id, r["Properties"]) for logical_id, r in of_type(template, kind).items()}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in of_type(template, "AWS::Serverless::Function").items()}


def events(template: dict[str, Any], kind: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(function properties, event properties) of every event source of one type."""
    return [
        (function, event["Properties"])
        for function in functions(template).values()
        for event in function.get("Events", {}).values()
        if event["Type"] == kind
    ]


def settings_variables() -> dict[str, str]:
    """Every environment variable Settings reads, with the field it fills."""
    variables = {}
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        assert isinstance(alias, AliasChoices)
        for choice in alias.choices:
            if isinstance(choice, str) and choice.isupper():
                variables[choice] = field_name
    return variables


def test_every_table_is_created_with_its_keys_indexes_ttl_and_stream(template: dict[str, Any]) -> None:
    tables = named(template, "AWS::DynamoDB::Table", "TableName")
    expected = resources.tables(PROD)
    assert set(tables) == {t.create_args["TableName"] for t in expected}
    for table in expected:
        logical_id, properties = tables[table.create_args["TableName"]]
        assert template["Resources"][logical_id]["DeletionPolicy"] == "Retain"
        for key in ("KeySchema", "AttributeDefinitions", "BillingMode"):
            assert properties[key] == table.create_args[key]
        assert properties.get("GlobalSecondaryIndexes") == table.create_args.get("GlobalSecondaryIndexes")
        ttl = properties.get("TimeToLiveSpecification")
        assert ttl == ({"AttributeName": table.ttl_attribute, "Enabled": True} if table.ttl_attribute else None)
        stream = table.create_args.get("StreamSpecification")
        assert properties.get("StreamSpecification") == ({"StreamViewType": "NEW_IMAGE"} if stream else None)
    assert "StreamSpecification" in tables["vbwd-prod-outbox"][1]


def test_each_consumer_has_its_queue_dead_letter_queue_rule_and_alarm(template: dict[str, Any]) -> None:
    queues = named(template, "AWS::SQS::Queue", "QueueName")
    rules = named(template, "AWS::Events::Rule", "Name")
    [(bus_id, bus)] = of_type(template, "AWS::Events::EventBus").items()
    assert bus["Properties"]["Name"] == PROD.event_bus_name == "vbwd-prod"
    expected = resources.queues(PROD)
    assert set(queues) == {q.queue_name for q in expected} | {q.dlq_name for q in expected}
    assert set(rules) == {q.rule_name for q in expected if q.rule_name is not None}  # task queues have none
    policies = of_type(template, "AWS::SQS::QueuePolicy").values()
    alarms = of_type(template, "AWS::CloudWatch::Alarm").values()
    for queue in expected:
        queue_id, properties = queues[queue.queue_name]
        dlq_id, _ = queues[queue.dlq_name]
        assert properties["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
            "maxReceiveCount": queue.consumer.max_receive_count,
        }
        assert properties["VisibilityTimeout"] == queue.consumer.visibility_timeout_seconds
        if queue.rule_name is None:  # a task queue: fed by its sweep's SendMessage, not by the bus
            assert properties.get("FifoQueue") is True
            assert not [p for p in policies if p["Properties"]["Queues"] == [{"Ref": queue_id}]]
        else:
            rule_id, rule = rules[queue.rule_name]
            assert rule["EventBusName"] == {"Ref": bus_id}
            assert rule["EventPattern"] == queue.event_pattern == {"detail-type": list(queue.consumer.event_types)}
            assert rule["Targets"] == [{"Id": "queue", "Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}]
            [policy] = [p["Properties"] for p in policies if p["Properties"]["Queues"] == [{"Ref": queue_id}]]
            [statement] = policy["PolicyDocument"]["Statement"]
            assert statement["Principal"] == {"Service": "events.amazonaws.com"}
            assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}
        [alarm] = [
            a["Properties"] for a in alarms if a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0] == dlq_id
        ]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_each_consumer_function_reads_its_queue_and_reports_partial_batch_failures(template: dict[str, Any]) -> None:
    queues = named(template, "AWS::SQS::Queue", "QueueName")
    consumers = events(template, "SQS")
    assert len(consumers) == len(resources.queues(PROD))
    for queue in resources.queues(PROD):
        queue_id, _ = queues[queue.queue_name]
        [(function, event)] = [(f, e) for f, e in consumers if e["Queue"] == {"Fn::GetAtt": [queue_id, "Arn"]}]
        assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert function["Handler"] == f"app.consume_{queue.consumer.name}"


def test_every_job_runs_on_its_schedule(template: dict[str, Any]) -> None:
    schedules = sorted(e["Schedule"] for _, e in events(template, "Schedule"))
    minutes = [job.every_minutes for job in resources.schedules()]
    assert schedules == sorted(f"rate({n} minute{'s' if n > 1 else ''})" for n in minutes)


def test_the_outbox_stream_feeds_the_relay_function(template: dict[str, Any]) -> None:
    tables = named(template, "AWS::DynamoDB::Table", "TableName")
    outbox_id, _ = tables[PROD.table_name("outbox")]
    stream = {"Fn::GetAtt": [outbox_id, "StreamArn"]}
    [(function, event)] = events(template, "DynamoDB")
    assert function["Handler"] == "app.relay_outbox_stream"
    assert event["Stream"] == stream and event["StartingPosition"] == "LATEST"
    assert event["MaximumRetryAttempts"] == package.STREAM_RETRY_ATTEMPTS  # then the scheduled sweep publishes it
    assert "outbox-relay" in {job.name for job in resources.schedules()}
    assert template["Globals"]["Function"]["Environment"]["Variables"]["OUTBOX_STREAM_ARN"] == stream


def test_every_handler_the_template_names_is_an_attribute_of_the_app(template: dict[str, Any]) -> None:
    handlers = sorted({f["Handler"].removeprefix("app.") for f in functions(template).values()})
    probe = f"import app; print(' '.join(h for h in {handlers!r} if not callable(getattr(app, h, None))))"
    env = {**os.environ, "OUTBOX_STREAM_ARN": package.STREAM_PLACEHOLDER}
    root = Path(package.__file__).resolve().parent.parent
    missing = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env, cwd=root
    )
    assert len(handlers) == len(functions(template)) >= 4
    assert missing.stdout.split() == []


def test_secrets_come_from_secrets_manager_and_every_variable_is_a_setting(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    known = settings_variables()
    assert set(variables) - set(known) == {"OUTBOX_STREAM_ARN", "VBWD_SECRETS_REVISION"}
    secret_fields = {n for n, f in Settings.model_fields.items() if "SecretStr" in str(f.annotation)}
    deployed = {s.variable for s in package.SECRETS}
    assert {known[v] for v in deployed | SEED_ONLY} == secret_fields | {
        "paypal_client_id",
        "paypal_webhook_id",
        "yookassa_shop_id",
    }
    assert deployed <= set(variables)
    for name in deployed:
        assert "{{resolve:secretsmanager:${SecretId}:SecretString:" + name + "}}" in json.dumps(variables[name])
    optional = {s.variable for s in package.SECRETS if s.provider}
    assert all("AWS::NoValue" in json.dumps(variables[name]) for name in optional)


def test_the_role_grants_what_the_code_uses_and_no_wildcards(template: dict[str, Any]) -> None:
    [role] = of_type(template, "AWS::IAM::Role").values()
    [policy] = role["Properties"]["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    granted: dict[str, list[Any]] = {}
    for statement in statements:
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in targets
        for action in statement["Action"]:
            granted.setdefault(action, []).extend(targets)
    tables = named(template, "AWS::DynamoDB::Table", "TableName")
    for logical_id, properties in tables.values():
        assert {"Fn::GetAtt": [logical_id, "Arn"]} in granted["dynamodb:PutItem"]
        assert {"Fn::GetAtt": [logical_id, "Arn"]} in granted["dynamodb:Query"]
        if "GlobalSecondaryIndexes" in properties:
            assert {"Fn::Sub": f"${{{logical_id}.Arn}}/index/*"} in granted["dynamodb:Query"]
    assert "dynamodb:Scan" not in granted
    [(bus_id, _)] = of_type(template, "AWS::Events::EventBus").items()
    assert granted["events:PutEvents"] == [{"Fn::GetAtt": [bus_id, "Arn"]}]
    queues = named(template, "AWS::SQS::Queue", "QueueName")
    consumer_queues = [{"Fn::GetAtt": [queues[q.queue_name][0], "Arn"]} for q in resources.queues(PROD)]
    assert granted["sqs:ReceiveMessage"] == granted["sqs:DeleteMessage"] == consumer_queues
    task_queues = [{"Fn::GetAtt": [queues[q.queue_name][0], "Arn"]} for q in resources.queues(PROD) if not q.rule_name]
    assert granted["sqs:SendMessage"] == granted["sqs:GetQueueUrl"] == task_queues  # sweeps feed them; no others
    assert "ses:SendRawEmail" in granted and "ses:SendEmail" in granted


def consumer_template(*queue_names: str) -> dict[str, Any]:
    """A minimal Chalice output: one consumer function per queue name, sharing Chalice's default role."""
    resources_: dict[str, Any] = {"DefaultRole": {"Type": "AWS::IAM::Role", "Properties": {"Policies": []}}}
    for n, name in enumerate(queue_names):
        queue = {"Fn::Sub": f"arn:${{AWS::Partition}}:sqs:${{AWS::Region}}:${{AWS::AccountId}}:{name}"}
        resources_[f"Consume{n}"] = {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Role": {"Fn::GetAtt": ["DefaultRole", "Arn"]},
                "Events": {"Sqs": {"Type": "SQS", "Properties": {"Queue": queue, "BatchSize": 10}}},
            },
        }
    return {"Resources": resources_}


def test_wiring_refuses_a_queue_the_resources_do_not_declare_or_a_queue_nobody_consumes() -> None:
    declared = [q.queue_name for q in resources.queues(PROD)]
    package.wire(consumer_template(*declared), PROD)
    with pytest.raises(RuntimeError, match="does not declare"):
        package.wire(consumer_template(*declared, "vbwd-prod-undeclared"), PROD)
    with pytest.raises(RuntimeError, match="exactly one consumer"):
        package.wire(consumer_template(), PROD)


def test_dependencies_compiled_on_this_machine_are_named(tmp_path: Path) -> None:
    wheels = {
        "pillow-13.0.0": "Tag: cp311-cp311-linux_x86_64\n",
        "bcrypt-5.0.0": "Tag: cp39-abi3-manylinux_2_17_x86_64\nTag: cp39-abi3-manylinux2014_x86_64\n",
        "six-1.17.0": "Tag: py2-none-any\nTag: py3-none-any\n",
    }
    for name, tags in wheels.items():
        (tmp_path / f"{name}.dist-info").mkdir()
        (tmp_path / f"{name}.dist-info" / "WHEEL").write_text(f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\n{tags}")
    assert package.built_on_this_machine(tmp_path) == ["pillow-13.0.0"]
