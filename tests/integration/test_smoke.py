from tests.integration.conftest import drain_events, sent_mail


def test_health(api):
    answer = api.get("/api/v1/health")
    assert answer.status == 200
    assert answer.json == {"status": "ok", "service": "vbwd-api", "version": "0.1.0", "dynamodb": "moto"}


def test_forgot_password_mail_goes_through_ses(api):
    assert api.post("/api/v1/auth/register", {"email": "smoke@example.com", "password": "Abcdef1!"}).status == 200
    assert api.post("/api/v1/auth/forgot-password", {"email": "smoke@example.com"}).status == 200
    done = drain_events()
    assert done["published"] >= 2
    mails = [m for m in sent_mail() if m["to"] == ["smoke@example.com"]]
    assert [m["subject"] for m in mails] == ["Welcome to VBWD", "Reset your password"]
    assert "reset-password?token=" in mails[1]["body"]
