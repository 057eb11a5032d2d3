"""Chores an operator does without a browser (issue 8, Deliver 6), against whatever stage the environment names —
the running `make run` stack by default, as `make check` does:

    python -m chalicelib.cli create-admin --email ops@example.com --password '…' [--super]
    python -m chalicelib.cli reset-password --email someone@example.com [--password '…']
    python -m chalicelib.cli run-job subscription-lifecycle
    python -m chalicelib.cli check
    python -m chalicelib.cli export-invoices --from 2026-01-01 --to 2026-01-31 [--out january.csv]

Each command is the product's own code (the admin user service, the jobs, the invariant checker, the invoices'
repository), so what it writes carries the same guards, events and audit trail as the API. Exit status: 0 done,
1 refused or a violation found, 2 a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import secrets
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any

CSV_COLUMNS = ("number", "date", "user email", "status", "currency", "net", "tax", "total", "refunded")


def use_local_stack() -> None:
    """On the local stage, point at the running `make run` stack (the `infra` helpers are not deployed)."""
    with contextlib.suppress(ImportError):
        from infra.local_env import apply_local_environment

        apply_local_environment()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vbwd", description="VBWD Serverless operator commands")
    commands = parser.add_subparsers(dest="command", required=True)

    create = commands.add_parser("create-admin", help="create an administrator")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--super", action="store_true", help="role SUPER_ADMIN instead of ADMIN")

    reset = commands.add_parser("reset-password", help="set a new password; every session of the user ends")
    reset.add_argument("--email", required=True)
    reset.add_argument("--password", help="the new password (a random one is made and printed when absent)")

    job = commands.add_parser("run-job", help="run a scheduled job once")
    job.add_argument("name")

    commands.add_parser("check", help="check the invariants; exit 1 on a violation")

    commands.add_parser(
        "reconcile-analytics", help="take every stored item into the analytics aggregates again (idempotent)"
    )

    export = commands.add_parser("export-invoices", help="invoices dated in a date range, as CSV")
    export.add_argument("--from", dest="start", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="end", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
    export.add_argument("--out", help="the file to write (standard output when absent)")
    return parser


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    stream = out or sys.stdout
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    from chalicelib.core.errors import DomainError

    try:
        return int(COMMANDS[args.command](args, stream))
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1


def _cli_actor() -> Any:
    from chalicelib.events.envelope import Actor

    return Actor.system("cli")


def _valid_credentials(email: str, password: str | None) -> tuple[str, str | None]:
    from pydantic_core import PydanticCustomError

    from chalicelib.auth.passwords import password_problems
    from chalicelib.auth.schemas import normalize_valid_email
    from chalicelib.core.errors import BadRequest

    try:
        address = normalize_valid_email(email)
    except PydanticCustomError as exc:
        raise BadRequest(exc.message()) from exc
    if password is not None and (problems := password_problems(password)):
        raise BadRequest(problems[0])
    return address, password


def create_admin(args: argparse.Namespace, out: IO[str]) -> int:
    from chalicelib.admin_users.service import add_account

    email, password = _valid_credentials(args.email, args.password)
    role = "SUPER_ADMIN" if args.super else "ADMIN"
    user = add_account(email, str(password), role, "ACTIVE", None, _cli_actor())
    print(f"created {role} {user.email} ({user.id})", file=out)
    return 0


def _random_password() -> str:
    """Meets auth.md §2.3: letters of both cases, a digit and a special character around 20 random ones."""
    return f"Aa1!{secrets.token_urlsafe(15)}"


def reset_password(args: argparse.Namespace, out: IO[str]) -> int:
    from chalicelib.admin_users.service import set_password
    from chalicelib.users.repository import find_user_id_by_email

    email, given = _valid_credentials(args.email, args.password)
    user_id = find_user_id_by_email(email)
    if user_id is None:
        print(f"error: no user has the address {email}", file=sys.stderr)
        return 1
    password = given or _random_password()
    set_password(user_id, password, _cli_actor())
    print(f"password of {email} changed; every session ended", file=out)
    if given is None:
        print(f"new password: {password}", file=out)
    return 0


def run_job(args: argparse.Namespace, out: IO[str]) -> int:
    from chalicelib.jobs import BY_NAME

    job = BY_NAME.get(args.name)
    if job is None:
        print(f"error: unknown job {args.name!r}; jobs: {', '.join(sorted(BY_NAME))}", file=sys.stderr)
        return 2
    result = job.load()()
    print(json.dumps(result, default=str, sort_keys=True), file=out)
    return 0


def check(args: argparse.Namespace, out: IO[str]) -> int:
    from chalicelib.audit.invariants import check_all, report
    from chalicelib.core import clock

    violations = check_all(clock.now())
    print(report(violations), file=out)
    return 1 if violations else 0


def reconcile_analytics(args: argparse.Namespace, out: IO[str]) -> int:
    """Heal the analytics aggregates after an outage longer than the queues keep messages, or after data written
    without events: every user's items applied again, each counted once (`chalicelib/analytics/reconcile.py`)."""
    from chalicelib.analytics.reconcile import reconcile_all

    print(json.dumps(reconcile_all(), sort_keys=True), file=out)
    return 0


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def export_invoices(args: argparse.Namespace, out: IO[str]) -> int:
    """One row per invoice dated (`invoiced_at`) from the first day's start to the last day's end (UTC), oldest
    first: Queries of the invoices' admin index by date, the users' addresses in one BatchGetItem per 100
    invoices."""
    from chalicelib.invoices.repository import invoices_invoiced_between

    if args.end < args.start:
        print("error: --to is before --from", file=sys.stderr)
        return 2
    invoices = invoices_invoiced_between(_day_start(args.start), _day_start(args.end + timedelta(days=1)))
    if args.out:
        with open(args.out, "w", newline="", encoding="utf-8") as target:
            written = _write_csv(invoices, target)
        print(f"{written} invoice(s) written to {args.out}", file=out)
    else:
        _write_csv(invoices, out)
    return 0


def _write_csv(invoices: Any, target: IO[str]) -> int:
    from chalicelib.catalog.pricing import Currencies
    from chalicelib.catalog.repository import reference
    from chalicelib.core.money import format_money
    from chalicelib.core.times import iso
    from chalicelib.users.repository import users_by_id

    currencies = Currencies.of(reference().currencies)
    writer = csv.writer(target)
    writer.writerow(CSV_COLUMNS)
    written = 0
    batch: list[Any] = []

    def flush() -> None:
        owners = users_by_id([invoice.user_id for invoice in batch])
        for invoice in batch:
            places = currencies.places(invoice.currency)
            owner = owners.get(invoice.user_id)
            writer.writerow(
                (
                    invoice.invoice_number,
                    iso(invoice.invoiced_at),
                    owner.email if owner is not None else "",
                    invoice.status,
                    invoice.currency,
                    format_money(Decimal(invoice.total_amount) - Decimal(invoice.tax_amount), places),
                    format_money(invoice.tax_amount, places),
                    format_money(invoice.total_amount, places),
                    format_money(Decimal(invoice.amount_refunded or 0), places),
                )
            )
        batch.clear()

    for invoice in invoices:
        batch.append(invoice)
        written += 1
        if len(batch) == 100:
            flush()
    flush()
    return written


COMMANDS = {
    "create-admin": create_admin,
    "reset-password": reset_password,
    "run-job": run_job,
    "check": check,
    "reconcile-analytics": reconcile_analytics,
    "export-invoices": export_invoices,
}
