"""The extension in a real VS Code: code-server in Chromium, the built .vsix, the real daemon.

A user opens a Python file, puts the cursor in a prompt, presses Ctrl+. and picks
"Optimize prompt" (the first, preferred entry), saves; the file on disk has the better prompt,
still parses, and keeps its placeholders. ``pytest -m 'not editor'`` leaves it out.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

from tests.waiting import wait_until

from .neovim_harness import running_daemon
from .vscode_harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VENV_BIN,
    CodeServer,
    code_server,
    require_tools,
    save_artifacts,
    tool_env,
)

pytestmark = [pytest.mark.editor, pytest.mark.slow, pytest.mark.timeout(420)]

PROMPT = (
    "Could you please kindly write a short summary of the report about {topic} "
    "for {audience}, and basically keep it under {limit} words?"
)
SOURCE = f'''"""Prompts of a small app."""

SYSTEM_PROMPT = "{PROMPT}"


def render(topic: str, audience: str, limit: int) -> str:
    return SYSTEM_PROMPT.format(topic=topic, audience=audience, limit=limit)
'''
PROMPT_LINE = 3  # 1-based, in SOURCE
UI_WAIT_S = 90.0


def _saved_prompt(path: Path) -> str | None:
    """SYSTEM_PROMPT's value on disk once it differs from the original, else None."""
    text = path.read_text(encoding="utf-8")
    if text == SOURCE:
        return None
    tree = ast.parse(text)  # a save that broke the Python fails here, with the text shown
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "SYSTEM_PROMPT":
            assert isinstance(node.value, ast.Constant), text
            assert isinstance(node.value.value, str), text
            return node.value.value
    raise AssertionError(f"SYSTEM_PROMPT is gone from the saved file:\n{text}")


def open_file(page: Page, cs: CodeServer, workspace: Path, name: str) -> None:
    """The workspace in the browser, then ``name`` opened through Quick Open (Ctrl+P)."""
    page.goto(f"{cs.url}/?folder={workspace}", wait_until="domcontentloaded")
    page.locator(".monaco-workbench .part.editor").wait_for(timeout=UI_WAIT_S * 1000)
    page.locator(".monaco-workbench").click(position={"x": 700, "y": 400})
    page.keyboard.press("Control+P")
    page.locator(".quick-input-widget input").wait_for(timeout=UI_WAIT_S * 1000)
    page.locator(".quick-input-widget input").fill(name)
    row = page.locator(".quick-input-list .monaco-list-row", has_text=name)
    row.first.wait_for(timeout=UI_WAIT_S * 1000)
    page.keyboard.press("Enter")


def _open_menu(page: Page, menu: Locator) -> bool:
    """Press Ctrl+. and give the menu a few seconds: a key pressed while the editor was
    still taking focus back is lost, and pressing again is what a user would do."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.keyboard.press("Control+Period")
    try:
        menu.wait_for(timeout=5000)
    except PlaywrightTimeout:
        return False
    return True


def test_optimize_prompt_from_ctrl_dot_in_code_server(
    promptd_home: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    require_tools()
    from playwright.sync_api import sync_playwright

    workspace = tmp_path / "project"
    workspace.mkdir()
    source = workspace / "prompts.py"
    source.write_text(SOURCE, encoding="utf-8")
    # promptd is not on this PATH: the extension finds it through promptd.path alone.
    env = tool_env({"PROMPTD_HOME": str(promptd_home)})
    daemon_env = dict(env, PATH=f"{VENV_BIN}:{env['PATH']}")

    server: CodeServer | None = None
    with running_daemon(daemon_env), sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            with code_server(tmp_path / "cs", promptd_path=VENV_BIN / "promptd", env=env) as cs:
                server = cs
                open_file(page, cs, workspace, source.name)
                quick_input = page.locator(".quick-input-widget input")
                editor = page.locator(".monaco-editor .view-lines")
                editor.first.wait_for(timeout=UI_WAIT_S * 1000)

                # The language server is up when its code lens is on the prompt.
                lens = page.locator(".codelens-decoration", has_text="Optimize")
                lens.first.wait_for(timeout=UI_WAIT_S * 1000)
                # The status bar is neutral (no warning colour) before any optimization.
                status = page.locator(".statusbar-item", has_text=re.compile(r"^promptd"))
                status.first.wait_for(timeout=UI_WAIT_S * 1000)
                assert "warning-kind" not in (status.first.get_attribute("class") or "")

                # The cursor in the prompt: go to its line and column.
                page.keyboard.press("Control+G")
                quick_input.wait_for(timeout=UI_WAIT_S * 1000)
                column = SOURCE.splitlines()[PROMPT_LINE - 1].index("kindly") + 2
                page.keyboard.type(f"{PROMPT_LINE}:{column}")
                page.keyboard.press("Enter")

                quick_input.wait_for(state="hidden", timeout=UI_WAIT_S * 1000)
                page.locator(".lightBulbWidget").first.wait_for(timeout=UI_WAIT_S * 1000)
                menu = page.locator(".action-widget:not(.action-list-submenu-panel)")
                wait_until(lambda: _open_menu(page, menu), UI_WAIT_S, "the Ctrl+. menu")
                rows = menu.locator(".monaco-list-row.action")
                rows.first.wait_for(timeout=UI_WAIT_S * 1000)
                titles = [t.strip() for t in rows.all_inner_texts()]
                assert any(re.search(r"Remove the filler", t) for t in titles), titles
                # "Optimize prompt" comes first and is the one Enter takes.
                assert titles[0].startswith("Optimize prompt"), titles
                focused = menu.locator(".monaco-list-row.action.focused")
                assert focused.inner_text().strip().startswith("Optimize prompt"), titles
                page.keyboard.press("Enter")

                # The edit arrives from the daemon; then save and read the file on disk.
                wait_until(
                    lambda: "kindly" not in editor.first.inner_text(),
                    UI_WAIT_S,
                    "the prompt to change in the editor",
                    interval=0.1,
                )
                page.keyboard.press("Control+S")
                saved = wait_until(
                    lambda: _saved_prompt(source), 30, "the saved file", interval=0.1
                )
        except BaseException:
            folder = save_artifacts(
                request.node.name, server, lambda p: page.screenshot(path=str(p))
            )
            print(f"artifacts of the failed run: {folder}")
            raise
        finally:
            browser.close()

    assert saved != PROMPT
    assert "kindly" not in saved
    for placeholder in ("{topic}", "{audience}", "{limit}"):
        assert placeholder in saved, saved
    after = source.read_text(encoding="utf-8")
    assert after.endswith(SOURCE[SOURCE.index("\n\ndef render") :]), after


def test_promptd_path_in_user_settings_starts_the_server_in_a_remote_window(
    promptd_home: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """code-server is a remote window: a machine-overridable promptd.path in User settings was
    ignored there and the server never started. In User settings it now works."""
    require_tools()
    from playwright.sync_api import sync_playwright

    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "prompts.py").write_text(SOURCE, encoding="utf-8")
    env = tool_env({"PROMPTD_HOME": str(promptd_home)})
    daemon_env = dict(env, PATH=f"{VENV_BIN}:{env['PATH']}")

    server: CodeServer | None = None
    with running_daemon(daemon_env), sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            with code_server(
                tmp_path / "cs", promptd_path=VENV_BIN / "promptd", env=env, path_in="User"
            ) as cs:
                server = cs
                open_file(page, cs, workspace, "prompts.py")
                # The server runs: its code lens is on the prompt and no error is shown.
                lens = page.locator(".codelens-decoration", has_text="Optimize")
                lens.first.wait_for(timeout=UI_WAIT_S * 1000)
                item = page.locator(".statusbar-item", has_text=re.compile(r"^promptd"))
                item.first.wait_for(timeout=UI_WAIT_S * 1000)
                assert item.first.locator(".codicon-error").count() == 0
        except BaseException:
            folder = save_artifacts(
                request.node.name, server, lambda p: page.screenshot(path=str(p))
            )
            print(f"artifacts of the failed run: {folder}")
            raise
        finally:
            browser.close()


def test_promptd_not_on_path_says_where_it_looked_and_opens_the_setting(
    promptd_home: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """promptd.path names a command that is on no PATH folder: the error lists the folders
    searched, and its "Open Settings" shows the promptd.path setting (not "No Settings Found")."""
    require_tools()
    from playwright.sync_api import sync_playwright

    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "prompts.py").write_text(SOURCE, encoding="utf-8")
    env = tool_env({"PROMPTD_HOME": str(promptd_home)})

    server: CodeServer | None = None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            with code_server(
                tmp_path / "cs", promptd_path=Path("promptd-missing"), env=env, path_in="User"
            ) as cs:
                server = cs
                open_file(page, cs, workspace, "prompts.py")
                toast = page.locator(".notification-toast", has_text="was not found on PATH")
                toast.first.wait_for(timeout=UI_WAIT_S * 1000)
                assert "(searched: " in toast.first.inner_text()
                toast.first.get_by_role("button", name="Open Settings").click()
                setting = page.locator(".settings-editor .setting-item", has_text="Path")
                setting.first.wait_for(timeout=UI_WAIT_S * 1000)
                assert page.locator(".settings-editor .no-results-message").is_hidden()
        except BaseException:
            folder = save_artifacts(
                request.node.name, server, lambda p: page.screenshot(path=str(p))
            )
            print(f"artifacts of the failed run: {folder}")
            raise
        finally:
            browser.close()
