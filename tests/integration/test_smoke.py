def test_health(api):
    answer = api.get("/api/v1/health")
    assert answer.status == 200
    assert answer.json == {"status": "ok", "service": "vbwd-api", "version": "0.1.0"}


def test_login(api):
    body = api.login("test@example.com", "TestPass123@")
    assert body["success"] is True
