"""`detente demo` ends by serving the web app; `detente serve` refuses to expose plain HTTP
and says when its workers could open more PostgreSQL connections than the server accepts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from typer.testing import CliRunner

from detente.cli.app import app
from detente.core.settings import Settings
from detente.core.workspace import create_workspace
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


def test_serve_warns_when_its_workers_could_run_postgresql_out_of_connections(
    tmp_path: Path, postgres_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each worker may open DETENTE_POOL_SIZE + DETENTE_POOL_OVERFLOW connections: more
    workers than the server's max_connections allows for are named before serving (and one
    is not); smaller pools let the same workers fit."""
    from detente.cli import workspace as commands

    served: list[int] = []
    monkeypatch.setattr(commands, "_serve", lambda _s, _h, _p, workers: served.append(workers))
    monkeypatch.setenv("DETENTE_DATABASE_URL", postgres_schema_url)
    engine = create_engine(postgres_schema_url)
    with engine.connect() as conn:
        allowed = int(conn.exec_driver_sql("SHOW max_connections").scalar_one())
    engine.dispose()
    each = Settings().pool_size + Settings().pool_overflow  # the defaults: 5 + 10
    many = allowed // each + 1
    runner = CliRunner()
    for workers in (1, many):
        result = runner.invoke(app, ["--workspace", str(tmp_path / "ws"), "serve", "--workers", str(workers)])
        assert result.exit_code == 0, result.output
        warned = f"{many} processes may open up to {many * each} connections"
        assert (warned in " ".join(result.output.split())) == (workers == many), result.output
    monkeypatch.setenv("DETENTE_POOL_SIZE", "1")
    monkeypatch.setenv("DETENTE_POOL_OVERFLOW", "0")
    result = runner.invoke(app, ["--workspace", str(tmp_path / "ws"), "serve", "--workers", str(many)])
    assert result.exit_code == 0 and "warning" not in result.output, result.output
    assert served == [1, many, many]


def test_the_pool_settings_size_each_process_pool(postgres_schema_url: str, tmp_path: Path) -> None:
    settings = Settings(
        workspace=tmp_path / "ws", database_url=postgres_schema_url, pool_size=2, pool_overflow=1
    )
    with create_workspace(settings) as ws:
        pool = ws.engine.pool
        assert (pool.size(), pool._max_overflow) == (2, 1)  # type: ignore[attr-defined]
        held = [ws.engine.connect() for _ in range(3)]  # the pool's 2 and 1 more
        assert (pool.checkedout(), pool.overflow()) == (3, 1)  # type: ignore[attr-defined]
        for conn in held:
            conn.close()


def test_the_serving_banner_is_one_line_whatever_the_width(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scripts and logs read the address off the banner: it is not broken at 80 columns
    (the width Rich assumes when the output is not a terminal)."""
    import uvicorn

    ran: list[int] = []
    monkeypatch.setattr(uvicorn, "run", lambda *_a, port, **_k: ran.append(port))
    monkeypatch.setenv("DETENTE_DATABASE_URL", "")
    from detente.cli.consoles import console

    monkeypatch.setattr(console, "width", 80)
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "serve", "--port", "18123"])
    assert result.exit_code == 0, result.output
    banner = [line for line in result.output.splitlines() if line.startswith("serving detente at")]
    assert len(banner) == 1 and len(banner[0]) > 80, result.output
    assert "http://127.0.0.1:18123/" in banner[0] and banner[0].endswith("Ctrl+C stops it")
    assert ran == [18123]
