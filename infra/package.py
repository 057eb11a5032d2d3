"""`make package`: the deployable CloudFormation (SAM) template of a stage, written to build/package/.

Chalice writes the functions, the REST API and the schedules (`chalice package --stage <stage>`) and merges in
(`--merge-template`) what this module derives from `infra/resources.py` — the same definitions `make run` and the
tests bootstrap: the tables with their indexes, TTLs and the outbox stream, the event bus and its rules, each
consumer's queue and dead-letter queue, an alarm on each dead-letter queue's depth, the stage's parameters and the
functions' environment (settings, and secrets as Secrets Manager dynamic references). Then it wires Chalice's
functions to those resources: each SQS event source reads its queue by reference and reports partial batch
failures, the stream relay reads the outbox table's stream, and the one execution role is granted exactly the
tables, indexes, stream, bus, queues and mail sender the code uses.

    python -m infra.package [--stage prod] [--out build/package] [--template-only]

A full build leaves `template.json` and the `deployment.zip` it names (docs/deployment.md says how to deploy
them); the dependencies in the zip are built for Lambda once per requirements.txt and cached in .local/lambda-deps/.
`--template-only` builds the same template without the dependencies (no network, seconds; `make test` lints it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.core.config import Settings
from infra import resources

PROJECT_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_FILE = "template.json"
DEPENDENCY_CACHE = PROJECT_DIR / ".local" / "lambda-deps"  # Lambda builds of requirements.txt, one per version

# Lambda knows the outbox stream by this variable (app.py registers the stream relay when it is set).
STREAM_VARIABLE = "OUTBOX_STREAM_ARN"
# Only the packaging process sees these: Chalice imports app.py, and a deployed stage refuses the development
# secrets. The functions get the real values from the template.
PACKAGING_ENVIRONMENT = {
    "JWT_SECRET": "packaging-only-placeholder-secret-never-deployed",
    "PAYMENT_WEBHOOK_SECRETS": "packaging-only-placeholder",
}
STREAM_PLACEHOLDER = "arn:aws:dynamodb:us-east-1:000000000000:table/packaging-placeholder/stream/placeholder"


@dataclass(frozen=True)
class Secret:
    """A setting read from the stage's Secrets Manager secret (a JSON object keyed by variable name)."""

    variable: str
    provider: str | None = None  # None: always required; else only read when that provider is enabled


SECRETS = (
    Secret("JWT_SECRET"),
    Secret("PAYMENT_WEBHOOK_SECRETS"),
    Secret("STRIPE_SECRET_KEY", "Stripe"),
    Secret("STRIPE_WEBHOOK_SECRET", "Stripe"),
    Secret("PAYPAL_CLIENT_ID", "Paypal"),
    Secret("PAYPAL_CLIENT_SECRET", "Paypal"),
    Secret("PAYPAL_WEBHOOK_ID", "Paypal"),  # not secret, but PayPal's webhooks cannot be verified without it
    Secret("YOOKASSA_SHOP_ID", "Yookassa"),
    Secret("YOOKASSA_SECRET_KEY", "Yookassa"),
)
PROVIDERS = tuple(dict.fromkeys(s.provider for s in SECRETS if s.provider))


@dataclass(frozen=True)
class Setting:
    """A plain (non-secret) setting of the functions, given as a stack parameter."""

    parameter: str
    variable: str
    description: str
    pattern: str | None = None
    optional: bool = False


SETTINGS = (
    Setting("MailFrom", "MAIL_FROM", "Sender of every mail; an SES-verified address or domain", r"^[^@\s]+@[^@\s]+$"),
    Setting("ResetUrlBase", "RESET_URL_BASE", "Frontend page that password-reset mails link to", r"^https://\S+$"),
    Setting(
        "CorsAllowedOrigins",
        "CORS_ALLOWED_ORIGINS",
        "Comma-separated origins allowed to call the API from a browser (empty: none)",
        optional=True,
    ),
)

DYNAMODB_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]
STREAM_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
QUEUE_ACTIONS = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
DLQ_RETENTION_SECONDS = 14 * 86400
STREAM_RETRY_ATTEMPTS = 3


# Logical ids ------------------------------------------------------------------------------------------------------


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))


def table_id(logical_name: str) -> str:
    return f"{_camel(logical_name)}Table"


def queue_id(consumer: str) -> str:
    return f"{_camel(consumer)}Queue"


def dlq_id(consumer: str) -> str:
    return f"{_camel(consumer)}DeadLetterQueue"


def rule_id(consumer: str) -> str:
    return f"{_camel(consumer)}Rule"


def alarm_id(consumer: str) -> str:
    return f"{_camel(consumer)}DeadLetterQueueDepthAlarm"


def _condition(provider: str) -> str:
    return f"{provider}Enabled"


def _arn(logical_id: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def streaming_table(settings: Settings) -> resources.TableDefinition:
    [table] = [t for t in resources.tables(settings) if "StreamSpecification" in t.create_args]
    return table


# The fragment Chalice merges ------------------------------------------------------------------------------------


def infrastructure(settings: Settings) -> dict[str, Any]:
    """Parameters, conditions, resources, globals and outputs derived from infra/resources.py."""
    template_resources: dict[str, Any] = {}
    for table in resources.tables(settings):
        template_resources[table_id(table.logical_name)] = _table(table)
    template_resources["EventBus"] = {"Type": "AWS::Events::EventBus", "Properties": {"Name": settings.event_bus_name}}
    template_resources["AlarmTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {}}
    template_resources["AlarmEmailSubscription"] = {
        "Type": "AWS::SNS::Subscription",
        "Condition": "HasAlarmEmail",
        "Properties": {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
    }
    for queue in resources.queues(settings):
        template_resources.update(_queue_resources(queue))
    return {
        "Parameters": _parameters(settings),
        "Conditions": _conditions(),
        "Globals": {"Function": {"Environment": {"Variables": environment(settings)}}},
        "Resources": template_resources,
        "Outputs": {
            "EventBusArn": {"Value": _arn("EventBus")},
            "AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}},
        },
    }


def _table(table: resources.TableDefinition) -> dict[str, Any]:
    args = table.create_args
    properties: dict[str, Any] = {
        key: args[key]
        for key in (
            "TableName",
            "KeySchema",
            "AttributeDefinitions",
            "BillingMode",
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
        )
        if key in args
    }
    if "StreamSpecification" in args:
        properties["StreamSpecification"] = {"StreamViewType": args["StreamSpecification"]["StreamViewType"]}
    if table.ttl_attribute:
        properties["TimeToLiveSpecification"] = {"AttributeName": table.ttl_attribute, "Enabled": True}
    properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    # Tables hold the money and the accounts: deleting the stack or replacing a table must not delete them.
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def _queue_resources(queue: resources.QueueDefinition) -> dict[str, Any]:
    name = queue.consumer.name
    fifo: dict[str, Any] = {"FifoQueue": True} if queue.fifo else {}
    found: dict[str, Any] = {
        dlq_id(name): {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": queue.dlq_name,
                **fifo,
                "MessageRetentionPeriod": DLQ_RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
            },
        },
        queue_id(name): {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": queue.queue_name,
                **fifo,
                "VisibilityTimeout": queue.consumer.visibility_timeout_seconds,
                "RedrivePolicy": {
                    "deadLetterTargetArn": _arn(dlq_id(name)),
                    "maxReceiveCount": queue.consumer.max_receive_count,
                },
                "SqsManagedSseEnabled": True,
            },
        },
        alarm_id(name): {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": (
                    f"Messages of the {name} consumer failed {queue.consumer.max_receive_count} times and wait in "
                    f"{queue.dlq_name}"
                ),
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": _arn(dlq_id(name), "QueueName")}],
                "Statistic": "Maximum",
                "Period": 60,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": "AlarmTopic"}],
                "OKActions": [{"Ref": "AlarmTopic"}],
            },
        },
    }
    if queue.rule_name is not None:  # an event consumer: a rule on the bus routes its events to the queue
        found.update(
            {
                rule_id(name): {
                    "Type": "AWS::Events::Rule",
                    "Properties": {
                        "Name": queue.rule_name,
                        "EventBusName": {"Ref": "EventBus"},
                        "EventPattern": queue.event_pattern,
                        "State": "ENABLED",
                        "Targets": [{"Id": "queue", "Arn": _arn(queue_id(name))}],
                    },
                },
                f"{queue_id(name)}Policy": {
                    "Type": "AWS::SQS::QueuePolicy",
                    "Properties": {
                        "Queues": [{"Ref": queue_id(name)}],
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": {"Service": "events.amazonaws.com"},
                                    "Action": "sqs:SendMessage",
                                    "Resource": _arn(queue_id(name)),
                                    "Condition": {"ArnEquals": {"aws:SourceArn": _arn(rule_id(name))}},
                                }
                            ],
                        },
                    },
                },
            }
        )
    return found


def _parameters(settings: Settings) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "SecretId": {
            "Type": "String",
            "Default": f"vbwd/{settings.stage}",
            "Description": (
                "Name or ARN of the Secrets Manager secret (a JSON object) holding JWT_SECRET, "
                "PAYMENT_WEBHOOK_SECRETS and the keys of every enabled payment provider"
            ),
        },
        "SecretsRevision": {
            "Type": "String",
            "Default": "1",
            "Description": "Change it to make the functions read the secret again (after rotating a value)",
        },
    }
    for provider in PROVIDERS:
        keys = ", ".join(s.variable for s in SECRETS if s.provider == provider)
        parameters[_condition(provider)] = {
            "Type": "String",
            "AllowedValues": ["true", "false"],
            "Default": "false",
            "Description": f"Offer {provider} payments (the secret must then hold {keys})",
        }
    for setting in SETTINGS:
        parameter: dict[str, Any] = {"Type": "String", "Description": setting.description}
        if setting.pattern:
            parameter["AllowedPattern"] = setting.pattern
        if setting.optional:
            parameter["Default"] = ""
        parameters[setting.parameter] = parameter
    parameters["AlarmEmail"] = {
        "Type": "String",
        "Default": "",
        "Description": "E-mail address subscribed to the alarm topic (empty: subscribe someone yourself)",
    }
    return parameters


def _conditions() -> dict[str, Any]:
    conditions: dict[str, Any] = {_condition(p): {"Fn::Equals": [{"Ref": _condition(p)}, "true"]} for p in PROVIDERS}
    for setting in SETTINGS:
        if setting.optional:
            conditions[f"Has{setting.parameter}"] = {"Fn::Not": [{"Fn::Equals": [{"Ref": setting.parameter}, ""]}]}
    conditions["HasAlarmEmail"] = {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    return conditions


def environment(settings: Settings) -> dict[str, Any]:
    """The variables every function gets on top of the stage's own from .chalice/config.json."""
    variables: dict[str, Any] = {STREAM_VARIABLE: _arn(table_id(streaming_table(settings).logical_name), "StreamArn")}
    for secret in SECRETS:
        reference = "{{resolve:secretsmanager:${SecretId}:SecretString:" + secret.variable + "}}"
        value: dict[str, Any] = {"Fn::Sub": reference}
        if secret.provider:
            value = {"Fn::If": [_condition(secret.provider), value, {"Ref": "AWS::NoValue"}]}
        variables[secret.variable] = value
    for setting in SETTINGS:
        value = {"Ref": setting.parameter}
        if setting.optional:
            value = {"Fn::If": [f"Has{setting.parameter}", value, {"Ref": "AWS::NoValue"}]}
        variables[setting.variable] = value
    variables["VBWD_SECRETS_REVISION"] = {"Ref": "SecretsRevision"}
    return variables


# Wiring Chalice's functions ---------------------------------------------------------------------------------------


def wire(template: dict[str, Any], settings: Settings) -> None:
    """Point Chalice's event sources at the template's queues and stream, and scope the functions' role."""
    queues = {q.queue_name: q for q in resources.queues(settings)}
    consumed: list[str] = []
    roles = set()
    for function in _functions(template):
        roles.add(function["Properties"]["Role"]["Fn::GetAtt"][0])
        for event in function["Properties"].get("Events", {}).values():
            properties = event["Properties"]
            if event["Type"] == "SQS":
                queue_name = properties["Queue"]["Fn::Sub"].rsplit(":", 1)[1]
                if queue_name not in queues:
                    raise RuntimeError(f"a function consumes {queue_name}, which infra/resources.py does not declare")
                consumed.append(queue_name)
                properties["Queue"] = _arn(queue_id(queues[queue_name].consumer.name))
                properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
            elif event["Type"] == "DynamoDB":
                if properties["Stream"] != STREAM_PLACEHOLDER:
                    raise RuntimeError(f"unexpected stream source {properties['Stream']}")
                properties["Stream"] = _arn(table_id(streaming_table(settings).logical_name), "StreamArn")
                # A failing batch would otherwise hold its shard for the stream's 24 hours; what the relay gives up
                # on stays pending in the outbox, and the scheduled outbox-relay sweep publishes it.
                properties["MaximumRetryAttempts"] = STREAM_RETRY_ATTEMPTS
    if sorted(consumed) != sorted(queues):
        raise RuntimeError(f"every queue needs exactly one consumer function: {sorted(consumed)} != {sorted(queues)}")
    for role in roles:
        template["Resources"][role]["Properties"]["Policies"] = [
            {"PolicyName": "vbwd-functions", "PolicyDocument": policy(settings)}
        ]


def _functions(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]


def policy(settings: Settings) -> dict[str, Any]:
    """What the functions may do: the stage's tables and indexes, the outbox stream, the bus, queues and mail."""
    tables = resources.tables(settings)
    stream_table = table_id(streaming_table(settings).logical_name)
    table_arns: list[Any] = []
    for table in tables:
        table_arns.append(_arn(table_id(table.logical_name)))
        if table.create_args.get("GlobalSecondaryIndexes") or table.create_args.get("LocalSecondaryIndexes"):
            table_arns.append({"Fn::Sub": f"${{{table_id(table.logical_name)}.Arn}}/index/*"})
    queue_arns = [_arn(queue_id(q.consumer.name)) for q in resources.queues(settings)]
    # Task queues are fed by the functions themselves (a sweeping job sends each due item, chalicelib.events.tasks).
    task_queue_arns = [_arn(queue_id(q.consumer.name)) for q in resources.queues(settings) if q.rule_name is None]
    statements = [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"},
        },
        {"Effect": "Allow", "Action": DYNAMODB_ACTIONS, "Resource": table_arns},
        {"Effect": "Allow", "Action": STREAM_ACTIONS, "Resource": {"Fn::Sub": f"${{{stream_table}.Arn}}/stream/*"}},
        {"Effect": "Allow", "Action": ["events:PutEvents"], "Resource": _arn("EventBus")},
        {"Effect": "Allow", "Action": QUEUE_ACTIONS, "Resource": queue_arns},
        *(
            [{"Effect": "Allow", "Action": ["sqs:GetQueueUrl", "sqs:SendMessage"], "Resource": task_queue_arns}]
            if task_queue_arns
            else []
        ),
        {
            "Effect": "Allow",
            "Action": ["ses:SendEmail", "ses:SendRawEmail"],
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"},
            "Condition": {"StringEquals": {"ses:FromAddress": {"Ref": "MailFrom"}}},
        },
    ]
    return {"Version": "2012-10-17", "Statement": statements}


# Building ---------------------------------------------------------------------------------------------------------


def stage_settings(stage: str) -> Settings:
    """The settings the template's names come from: the stage alone, nothing of this shell's environment."""
    return Settings.from_environ({"VBWD_STAGE": stage, **PACKAGING_ENVIRONMENT})


def build(stage: str, out: Path, *, template_only: bool = False) -> Path:
    """Write `<out>/template.json` (and, unless template_only, the `deployment.zip` it names)."""
    settings = stage_settings(stage)
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    dependencies = None if template_only else lambda_dependencies()
    for name in built_on_this_machine(dependencies) if dependencies else []:
        print(f"WARNING: {name} was compiled on this machine, not from a Lambda wheel; Lambda may fail to load it")
    with tempfile.TemporaryDirectory(prefix="vbwd-package-") as scratch:
        fragment = Path(scratch) / "infrastructure.json"
        fragment.write_text(json.dumps(infrastructure(settings), indent=2))
        project = _staged_project(Path(scratch) / "project", dependencies)
        _chalice_package(project, stage, fragment, out)
    chalice_output = out / "sam.json"
    template = json.loads(chalice_output.read_text())
    wire(template, settings)
    chalice_output.unlink()
    if template_only:
        (out / "deployment.zip").unlink()
    path = out / TEMPLATE_FILE
    # Compact: CloudFormation refuses a template over 1 MB, and the API definition (one path per route) is most of it.
    path.write_text(json.dumps(template, separators=(",", ":")) + "\n")
    return path


def lambda_dependencies() -> Path:
    """requirements.txt built for Lambda by Chalice's own dependency builder, once per requirements.txt.

    Chalice caches a deployment package under the hash of requirements.txt *and every app file*, so each code
    change would download (and compile, where no Lambda wheel exists) every dependency again. Built here once
    and vendored, a code change only costs the zip.
    """
    from chalice.deploy.packager import DependencyBuilder, MissingDependencyError
    from chalice.utils import OSUtils

    requirements = PROJECT_DIR / "requirements.txt"
    abi = f"cp{sys.version_info.major}{sys.version_info.minor}"
    key = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    target = DEPENDENCY_CACHE / f"{abi}-{key}"
    if target.is_dir():
        return target
    partial = target.with_name(f"{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    print(f"Building Lambda wheels of requirements.txt into {target} (first run only)…", flush=True)
    try:
        DependencyBuilder(OSUtils()).build_site_packages(abi, str(requirements), str(partial))
    except MissingDependencyError as error:
        missing = ", ".join(sorted(package.identifier for package in error.missing))
        print(f"WARNING: no Lambda-compatible build of {missing}; they are missing from the package")
    partial.rename(target)
    return target


def built_on_this_machine(dependencies: Path) -> list[str]:
    """Distributions compiled here from source (wheel tag `linux_*`): they link this machine's system libraries.

    Chalice builds an sdist when a package has no wheel for Lambda's glibc (2.26 on python3.11) and accepts the
    result; Lambda then fails to load it. A pin with a manylinux2014 wheel (or a newer runtime) is the fix.
    """
    found = []
    for wheel in sorted(dependencies.glob("*.dist-info/WHEEL")):
        tags = [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")]
        if tags and all(tag.rsplit("-", 1)[-1].startswith("linux_") for tag in tags):
            found.append(wheel.parent.name.removesuffix(".dist-info"))
    return found


def _staged_project(project: Path, dependencies: Path | None) -> Path:
    """The app as Chalice packages it: our code, the stage config, and the dependencies as `vendor/` (if any).

    requirements.txt is empty here, so Chalice vendors nothing itself; without dependencies the template is
    the same and only the zip is incomplete (the template-only build deletes it).
    """
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(PROJECT_DIR / "chalicelib", project / "chalicelib", ignore=ignore)
    shutil.copy2(PROJECT_DIR / "app.py", project / "app.py")
    (project / ".chalice").mkdir()
    shutil.copy2(PROJECT_DIR / ".chalice" / "config.json", project / ".chalice" / "config.json")
    (project / "requirements.txt").write_text("")
    if dependencies is not None:
        (project / "vendor").symlink_to(dependencies, target_is_directory=True)
    return project


def _chalice_package(project: Path, stage: str, fragment: Path, out: Path) -> None:
    env = _packaging_environment()
    chalice = Path(sys.executable).with_name("chalice")
    command = [str(chalice), "--project-dir", str(project), "package", "--stage", stage]
    subprocess.run([*command, "--merge-template", str(fragment), str(out)], check=True, env=env, cwd=project)


def _packaging_environment() -> dict[str, str]:
    """Chalice's environment: the stage comes from .chalice/config.json alone, and no AWS account is involved.

    `chalice package` calls no AWS API, but it creates a botocore client to learn the region, and botocore's
    credential chain would ask the EC2 instance metadata service: dummy credentials stop the chain first, and
    the metadata service is switched off besides. The region only picks service principals' DNS suffix.
    """
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VBWD_", "AWS_"))}
    env.update(PACKAGING_ENVIRONMENT)
    env.update(
        {
            STREAM_VARIABLE: STREAM_PLACEHOLDER,
            "AWS_DEFAULT_REGION": region,
            "AWS_ACCESS_KEY_ID": "packaging",
            "AWS_SECRET_ACCESS_KEY": "packaging",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", default="prod", choices=["dev", "prod"])
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build" / "package")
    parser.add_argument("--template-only", action="store_true", help="do not vendor requirements.txt")
    args = parser.parse_args()
    path = build(args.stage, args.out, template_only=args.template_only)
    print(f"Wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
