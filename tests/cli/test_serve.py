"""`detente demo` ends by serving the web app; `detente serve` refuses to expose plain HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from detente.cli.app import app
from tests.live import free_port

DETENTE = str(Path(sys.executable).with_name("detente"))


def test_demo_builds_then_serves_and_prints_the_accounts(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DETENTE_DATABASE_URL": "", "COLUMNS": "200"}
    proc = subprocess.Popen(
        # no open data: this test is about serving (the lake is tests/demo's)
        [DETENTE, "--workspace", str(tmp_path / "demo"), "demo", "--years", "2", "--port", str(port),
         "--data", str(tmp_path / "no-data")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # readiness poll while the scenario is generated
            try:
                if httpx.get(f"{base}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            json={"username": "ken-analyst", "password": "demo-ken-analyst-password"},
        )
        assert token.status_code == 201
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        ken = httpx.get(f"{base}/api/v1/engagements", headers=headers).json()["total"]
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            json={"username": "gbr-planner", "password": "demo-gbr-planner-password"},
        )
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        gbr = httpx.get(f"{base}/api/v1/engagements", headers=headers).json()["total"]
        assert 0 < ken < gbr  # two organisations, different releasability
        assert httpx.get(f"{base}/login").status_code == 200
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}/" in out
    assert "gbr-planner" in out and "demo-ken-analyst-password" in out
    assert "no open data folder" in out and "detente sources load" in out


def test_serve_refuses_plain_http_beyond_this_machine(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 3
    assert "DETENTE_SECURE_COOKIES" in result.output
