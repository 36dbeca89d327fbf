"""The load balancer of deploy/: Debian's nginx on loopback, with deploy/nginx/chat.conf, in front
of two app instances. (No Docker engine runs here, so compose itself cannot be tried.)"""

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from tests.pages import Api, open_room, page_opener, send
from tests.support import (
    ROOT,
    AppProcess,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    running_app,
    unavailable,
    unique,
)

WITHIN_A_SECOND = 1_000


def nginx_config(directory: Path, port: int, upstreams: list[AppProcess]) -> Path:
    """deploy/nginx/chat.conf as it is, but for its port and where its upstream list lives."""
    site = (ROOT / "deploy/nginx/chat.conf").read_text()
    assert "listen 80;" in site and "include /etc/nginx/chat-upstream.conf;" in site
    upstream = directory / "chat-upstream.conf"
    upstream.write_text("".join(f"server {app.url.removeprefix('http://')};\n" for app in upstreams))
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    site = site.replace("include /etc/nginx/chat-upstream.conf;", f"include {upstream};")
    (directory / "chat.conf").write_text(site)
    main = directory / "nginx.conf"
    main.write_text(
        f"""{"user root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/chat.conf;
}}
"""
    )
    return main


@pytest.fixture(scope="module")
def balanced(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[tuple[str, AppProcess, AppProcess]]:
    """(nginx URL, instance one, instance two)."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        unavailable("nginx is not installed (apt-get install nginx)")
    base = tmp_path_factory.mktemp("nginx")
    database_url = create_postgres_database()
    shared = {
        "CHAT_DATABASE_URL": database_url,
        "CHAT_REDIS_URL": redis_url,
        "CHAT_REDIS_PREFIX": unique("nginx"),
        "CHAT_STORAGE_SECRET": "shared-by-both-instances",
        "CHAT_MEDIA_DIR": str(base / "media"),
    }
    try:
        with (
            running_app(base / "one", CHAT_DATA_DIR=str(base / "one"), **shared) as one,
            running_app(base / "two", CHAT_DATA_DIR=str(base / "two"), **shared) as two,
        ):
            port = free_port()
            config = nginx_config(base, port, [one, two])
            process = subprocess.Popen([nginx, "-c", str(config), "-p", str(base)], stderr=subprocess.PIPE, text=True)
            url = f"http://127.0.0.1:{port}"
            try:
                deadline = time.monotonic() + 15
                while True:
                    try:
                        if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    assert process.poll() is None, f"nginx exited: {process.stderr.read() if process.stderr else ''}"
                    assert time.monotonic() < deadline, "nginx did not answer within 15 s"
                    time.sleep(0.2)
                yield url, one, two
            finally:
                process.terminate()
                process.wait(timeout=10)
    finally:
        drop_postgres_database(database_url)


def instance_of(url: str) -> str:
    return httpx.get(f"{url}/healthz", timeout=5).headers["x-chat-instance"]


def test_a_browser_through_nginx_chats_with_a_browser_on_the_other_instance(
    browser: Browser, balanced: tuple[str, AppProcess, AppProcess], tmp_path: Path
) -> None:
    url, one, two = balanced
    chosen = instance_of(url)
    assert chosen in {instance_of(one.url), instance_of(two.url)}
    other = two if chosen == instance_of(one.url) else one
    api = Api(url)
    slug = api.room()
    with page_opener(browser, url) as via_nginx, page_opener(browser, other.url) as direct:
        alice = open_room(via_nginx, slug)
        bob = open_room(direct, slug)
        send(alice, "through the load balancer")
        expect(bob.get_by_test_id("message-text").last).to_have_text(
            "through the load balancer", timeout=WITHIN_A_SECOND
        )
        send(bob, "straight to the other instance")
        expect(alice.get_by_test_id("message-text").last).to_have_text(
            "straight to the other instance", timeout=WITHIN_A_SECOND
        )
        # Uploads must reach the instance that holds the page: they go through nginx too.
        photo = tmp_path / "balanced.png"
        Image.new("RGB", (500, 500), "purple").save(photo)
        alice.locator("[data-testid=image-upload] input[type=file]").set_input_files(photo)
        expect(bob.get_by_test_id("message-image").last).to_be_visible(timeout=5_000)
        # Reloads keep the same instance, so the page, its socket and its uploads always meet.
        for _ in range(3):
            response = alice.reload()
            assert response is not None and response.headers["x-chat-instance"] == chosen
            expect(alice.get_by_test_id("message-text").last).to_have_text("straight to the other instance")
    api.close()
