"""End to end in a real browser: `convoflow demo` serves /demo, Debian's chromium chats with its workflow.

The server is the real command (uvicorn, the engine's threads, a fresh SQLite file), started on a free
loopback port. Chromium must be on PATH (`.ci/run` installs Debian's package); it is never downloaded.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
REPLY_TIMEOUT_MS = 20_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`convoflow demo` on a free port with its own data directory; its base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data = tmp_path_factory.mktemp("demo-data")
    env = {
        **os.environ,
        "CONVOFLOW_DATA_DIR": str(data),
        "CONVOFLOW_PUBLIC_BASE_URL": base,
        "CONVOFLOW_PASSWORD_HASHING__TIME_COST": "1",
        "CONVOFLOW_PASSWORD_HASHING__MEMORY_KIB": "8",
        "CONVOFLOW_PASSWORD_HASHING__PARALLELISM": "1",
    }
    for name in ("CONVOFLOW_DATABASE_URL", "CONVOFLOW_SECRET_KEY", "CONVOFLOW_HOST", "CONVOFLOW_PORT"):
        env.pop(name, None)
    log = (data / "server.log").open("w")
    command = [sys.executable, "-c", "from convoflow.cli import app; app()", "demo", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(base, server, data / "server.log")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"`convoflow demo` exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"`convoflow demo` did not answer within 60 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail(
            "chromium is not installed: run `apt-get install -y chromium` (.ci/run does); "
            "the Web Chat browser test never downloads a browser"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()  # a new visitor: empty localStorage
    opened = context.new_page()
    yield opened
    context.close()


def _chat(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("textbox", name="Message").press("Enter")


def test_a_visitor_on_the_demo_page_chats_with_the_demo_workflow(demo_server: str, page: Page) -> None:
    page.goto(f"{demo_server}/demo")
    page.get_by_role("button", name="Open chat").click()
    _chat(page, "Hola, ¿hacéis envíos?")
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text("Hola, ¿hacéis envíos?")
    expect(log).to_contain_text("Soy el asistente de la tienda demo", timeout=REPLY_TIMEOUT_MS)
    expect(log).to_contain_text("¿En qué podemos ayudarte?", timeout=REPLY_TIMEOUT_MS)
    page.get_by_role("button", name="Ventas").click()
    expect(log).to_contain_text("Has elegido: Ventas", timeout=REPLY_TIMEOUT_MS)
    # The visitor is remembered: after a reload the conversation is still there.
    page.reload()
    page.get_by_role("button", name="Open chat").click()
    expect(page.get_by_role("log", name="Messages")).to_contain_text(
        "Has elegido: Ventas", timeout=REPLY_TIMEOUT_MS
    )


def test_without_a_websocket_the_widget_falls_back_to_polling(demo_server: str, page: Page) -> None:
    page.route_web_socket("**/socket", lambda ws: ws.close())  # the socket never gets through
    page.goto(f"{demo_server}/demo")
    page.get_by_role("button", name="Open chat").click()
    _chat(page, "Hola sin socket")
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text("Soy el asistente de la tienda demo", timeout=REPLY_TIMEOUT_MS)
    expect(page.get_by_role("status")).to_contain_text("Reconnecting")
    page.get_by_role("button", name="Soporte").click()
    expect(log).to_contain_text("Has elegido: Soporte", timeout=REPLY_TIMEOUT_MS)
