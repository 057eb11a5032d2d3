"""The operator CLI (issue 8, Deliver 6): `chalicelib.cli.commands.main(argv)` on moto, the seeded account of the
module (the API is used only to make the invoices an export lists and to see what a command changed)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

import pytest

from chalicelib.cli.commands import CSV_COLUMNS, main
from chalicelib.core import clock
from chalicelib.tokens.models import TokenBalanceItem
from tests.contract import PASSWORD
from tests.integration.buyers import buy, german_buyer, register_buyer
from tests.integration.conftest import Api, drain_events, outbox_events


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out), out.getvalue()


def test_create_admin_makes_an_admin_who_can_sign_in(api: Api) -> None:
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    status, printed = run("create-admin", "--email", email.upper(), "--password", PASSWORD, "--super")

    assert status == 0 and f"created SUPER_ADMIN {email}" in printed
    login = api.login(email, PASSWORD)
    assert (login["user"]["role"], login["user"]["permissions"]) == ("SUPER_ADMIN", ["*"])
    [event] = [e for e in outbox_events("user.registered") if e["data"]["email"] == email]
    assert (event["data"]["source"], event["actor"]) == ("admin", {"type": "system", "id": "cli"})


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--email", "not-an-address", "--password", PASSWORD], 1),
        (["--email", "weak@example.com", "--password", "weak"], 1),
        (["--email", "admin@example.com", "--password", PASSWORD], 1),  # taken
        (["--password", PASSWORD], 2),  # usage
    ],
)
def test_create_admin_refusals(api: Api, argv: list[str], expected: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("create-admin", *argv)[0] == expected
    assert capsys.readouterr().err  # the reason is printed


def test_reset_password_ends_sessions_and_prints_a_new_password(api: Api) -> None:
    buyer = register_buyer(api, "cli-reset")
    status, printed = run("reset-password", "--email", buyer.email)

    assert status == 0
    new_password = printed.rsplit("new password: ", 1)[1].strip()
    assert api.get("/api/v1/auth/me", token=buyer.token).status == 401
    assert api.login(buyer.email, new_password)["user_id"] == buyer.user_id
    chosen = run("reset-password", "--email", buyer.email, "--password", "Chosen1!pass")
    assert chosen[0] == 0 and "new password" not in chosen[1]
    assert api.login(buyer.email, "Chosen1!pass")["user_id"] == buyer.user_id


def test_reset_password_of_an_unknown_address_fails(api: Api) -> None:
    assert run("reset-password", "--email", "nobody-here@example.com")[0] == 1


def test_run_job_runs_a_job_and_refuses_an_unknown_one(api: Api) -> None:
    status, printed = run("run-job", "outbox-relay")
    assert status == 0 and isinstance(json.loads(printed), dict)
    assert run("run-job", "no-such-job")[0] == 2


def test_check_passes_then_fails_on_a_broken_ledger(fresh_api: Api) -> None:
    status, _ = run("check")
    assert status == 0
    holder = register_buyer(fresh_api, "cli-check")
    broken = TokenBalanceItem.new(holder.user_id, clock.now())
    broken.balance = 7  # no ledger entry says so
    broken.save()
    status, printed = run("check")
    assert status == 1 and holder.user_id in printed


def test_export_invoices_writes_the_range_as_csv(api: Api, tmp_path: Path) -> None:
    buyer = german_buyer(api, "cli-export")
    invoice = buy(api, buyer, plan="basic")["invoice"]
    today = clock.now().date().isoformat()
    target = tmp_path / "invoices.csv"

    status, printed = run("export-invoices", "--from", today, "--to", today, "--out", str(target))

    assert status == 0 and "invoice(s) written" in printed
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert tuple(rows[0]) == CSV_COLUMNS
    [row] = [r for r in rows[1:] if r[0] == invoice["invoice_number"]]
    assert row[2:5] == [buyer.email, "PENDING", "EUR"]
    assert row[7] == invoice["total_amount"] and row[8] == "0.00"
    assert float(row[5]) + float(row[6]) == pytest.approx(float(row[7]))


def test_export_invoices_of_an_empty_range_has_only_the_header(api: Api) -> None:
    status, printed = run("export-invoices", "--from", "2001-01-01", "--to", "2001-01-31")
    assert status == 0 and printed.strip() == ",".join(CSV_COLUMNS)
    assert run("export-invoices", "--from", "2001-02-01", "--to", "2001-01-01")[0] == 2
    assert run("export-invoices", "--from", "yesterday", "--to", "2001-01-01")[0] == 2


def test_make_run_prints_how_to_call_every_command() -> None:
    from chalicelib.cli.commands import COMMANDS
    from infra.run_local import DynamoDBChoice, banner

    printed = banner(8000, 4566, False, DynamoDBChoice("moto", "test"), "http://127.0.0.1:4566", True)
    assert "python -m chalicelib.cli" in printed
    assert [name for name in COMMANDS if name not in printed] == []


def test_reconcile_analytics_heals_a_lost_event_and_moves_nothing_twice(fresh_api: Api) -> None:
    from chalicelib.analytics.aggregates.repository import current

    def users() -> int:
        totals = current().get("TOTALS")
        return int(totals.users) if totals is not None else 0

    before = users()
    holder = register_buyer(fresh_api, "cli-reconcile")  # its user.registered is never delivered here
    assert holder.user_id
    status, printed = run("reconcile-analytics")
    assert status == 0 and '"users":' in printed
    assert users() == before + 1
    run("reconcile-analytics")
    assert users() == before + 1
    drain_events()  # the registration's own event, late: counted once all the same
    assert users() == before + 1
