"""The desktop app: `python main.py --native` in a real Qt window on a virtual screen (Xvfb).

The test plays the window manager: it finds the window by its title, photographs the screen,
and closes the window with WM_DELETE_WINDOW, exactly what clicking its close button sends.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.support import ROOT, app_environment, unavailable

SCREEN = (1440, 900)
BRAND = (79, 70, 229)  # the primary colour of chat_ui.theme


class VirtualScreen:
    def __init__(self, number: int, process: subprocess.Popen[bytes]) -> None:
        self.name = f":{number}"
        self.process = process
        from Xlib import display

        deadline = time.monotonic() + 10
        while True:
            try:
                self.display = display.Display(self.name)
                break
            except Exception:
                assert time.monotonic() < deadline, "Xvfb did not start within 10 s"
                time.sleep(0.1)

    def find_window(self, title: str):  # type: ignore[no-untyped-def]
        def walk(window):  # type: ignore[no-untyped-def]
            for child in window.query_tree().children:
                if child.get_wm_name() == title:
                    return child
                if (found := walk(child)) is not None:
                    return found
            return None

        return walk(self.display.screen().root)

    def photograph(self) -> Image.Image:
        from Xlib import X

        root = self.display.screen().root
        geometry = root.get_geometry()
        raw = root.get_image(0, 0, geometry.width, geometry.height, X.ZPixmap, 0xFFFFFFFF)
        return Image.frombytes("RGB", (geometry.width, geometry.height), raw.data, "raw", "BGRX")

    def close_window(self, window) -> None:  # type: ignore[no-untyped-def]
        from Xlib import X, protocol

        protocols, delete = self.display.intern_atom("WM_PROTOCOLS"), self.display.intern_atom("WM_DELETE_WINDOW")
        event = protocol.event.ClientMessage(
            window=window, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
        )
        window.send_event(event, event_mask=X.NoEventMask)
        self.display.flush()


@pytest.fixture
def screen() -> Iterator[VirtualScreen]:
    if shutil.which("Xvfb") is None:
        unavailable("Xvfb is not installed (apt-get install xvfb)")
    try:
        import webview  # noqa: F401
        from PyQt6 import QtWebEngineWidgets  # noqa: F401
        from Xlib import display  # noqa: F401
    except ImportError as error:
        unavailable(f"the desktop extra is not installed (pip install -e '.[native,test]'): {error}")
    number = next(n for n in range(90, 200) if not Path(f"/tmp/.X{n}-lock").exists())
    process = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    screen = VirtualScreen(number, process)
    yield screen
    screen.display.close()
    process.terminate()
    process.wait(timeout=10)


def start_native(screen: VirtualScreen, home: Path, log: Path) -> tuple[subprocess.Popen[str], str]:
    """Start the desktop app; returns the process and the URL it serves on."""
    env = app_environment(
        DISPLAY=screen.name,
        XDG_DATA_HOME=str(home),  # where platformdirs puts the user data folder on Linux
        QTWEBENGINE_DISABLE_SANDBOX="1",  # Chromium's sandbox refuses to run as root
    )
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "--native"],
            cwd=home,  # any current directory: the data must not land here
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, to find anything it leaves behind
        )
    deadline = time.monotonic() + 60
    while not (match := re.search(r"serving on (http://\S+)", log.read_text())):
        assert process.poll() is None, f"the app exited early:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no URL within 60 s:\n{log.read_text()}"
        time.sleep(0.2)
    return process, match.group(1)


def processes_in_group(group: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def wait_for_rendered_window(screen: VirtualScreen) -> Image.Image:
    """The window titled Chat, showing the app: many colours, the brand colour among them."""
    deadline = time.monotonic() + 60
    while True:
        shot = screen.photograph()
        colours = shot.getcolors(1_000_000) or []
        brand = sum(
            count for count, colour in colours if all(abs(a - b) < 12 for a, b in zip(colour, BRAND, strict=True))
        )
        if screen.find_window("Chat") is not None and len(colours) > 50 and brand > 200:
            return shot
        assert time.monotonic() < deadline, "the window did not show the rendered app within 60 s"
        time.sleep(0.5)


def test_the_desktop_window_opens_renders_and_closes_cleanly(screen: VirtualScreen, tmp_path: Path) -> None:
    process, url = start_native(screen, tmp_path, tmp_path / "first.log")
    try:
        assert httpx.get(f"{url}/healthz", timeout=10).json()["status"] == "ok"
        token = httpx.post(f"{url}/api/v1/guests", json={"display_name": "Desk"}).json()["token"]
        httpx.post(f"{url}/api/v1/rooms", json={"name": "Kept on disk"}, headers={"Authorization": f"Bearer {token}"})
        shot = wait_for_rendered_window(screen)
        (ROOT / "test-artifacts").mkdir(exist_ok=True)
        shot.save(ROOT / "test-artifacts" / "native-window.png")

        started = time.monotonic()
        screen.close_window(screen.find_window("Chat"))
        assert process.wait(timeout=10) == 0, (tmp_path / "first.log").read_text()
        assert time.monotonic() - started < 10
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
    # Nothing left behind: no process of its group, nothing on its port, no SQLite journal.
    deadline = time.monotonic() + 5
    while processes_in_group(process.pid):
        assert time.monotonic() < deadline, f"left behind: {processes_in_group(process.pid)}"
        time.sleep(0.2)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/healthz", timeout=2)
    data_dir = tmp_path / "Chat"
    assert (data_dir / "chat.db").exists() and not (data_dir / "chat.db-wal").exists()
    assert not (tmp_path / "data").exists(), "the data lives in the user data folder, not the current directory"

    # A second start reuses the same data.
    process, url = start_native(screen, tmp_path, tmp_path / "second.log")
    try:
        assert [room["name"] for room in httpx.get(f"{url}/api/v1/rooms", timeout=10).json()] == ["Kept on disk"]
        wait_for_rendered_window(screen)
        screen.close_window(screen.find_window("Chat"))
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)


def test_without_the_desktop_extra_native_says_what_to_install() -> None:
    hide_webview = "import sys; sys.modules['webview'] = None; sys.argv = ['main.py', '--native']; "
    run = f"{hide_webview}import runpy; runpy.run_path({str(ROOT / 'main.py')!r}, run_name='__main__')"
    result = subprocess.run(
        [sys.executable, "-c", run], cwd=ROOT, env=app_environment(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "pip install -e '.[native]'" in result.stderr
