"""The sandbox page in headless Chromium, started as `make run` starts it with nothing configured.

Needs Debian's chromium at /usr/bin/chromium (`make test` installs it with apt-get where it can,
through tests/bot/sandbox/ensure-chromium.sh). Skipped where it is missing; under CI=true a
missing browser fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.config import Person
from bot.sandbox.page import SandboxPage
from bot.sandbox.workspace import SandboxWorkspace
from tests.bot.sandbox.launch import Running, running_sandbox

pytestmark = [pytest.mark.browser, pytest.mark.subprocess]
CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
RILEY, ALEX, SAM = "U0SBXRILEY", "U0SBXALEX", "U0SBXSAM"
WAIT_MS = 15_000


def _unavailable() -> str | None:
    if not CHROMIUM.exists():
        return (
            f"Chromium is not installed at {CHROMIUM}; `make test` installs Debian's chromium "
            "and chromium-driver with apt-get where it can (tests/bot/sandbox/ensure-chromium.sh)"
        )
    try:
        import playwright.sync_api  # noqa: F401, PLC0415
    except ImportError as exc:
        return f"the playwright package is not installed ({exc}); run `make setup`"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    problem = _unavailable()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"CI=true: the browser test is required, but {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            # Nothing but the sandbox on 127.0.0.1: whatever else is asked goes to a dead proxy.
            proxy={"server": "http://127.0.0.1:9", "bypass": "127.0.0.1"},
            args=["--disable-background-networking", "--disable-component-update"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Running]:
    with running_sandbox(tmp_path) as running:
        yield running


@pytest.fixture
def page(browser: Any, sandbox: Running) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(WAIT_MS)
    # Assertions wait as long as actions (their own default is 5 s): beside the other tests
    # of a parallel run, the bot may take longer than that to open the form.
    from playwright.sync_api import expect  # noqa: PLC0415

    expect.set_options(timeout=WAIT_MS)
    elsewhere: list[str] = []
    problems: list[str] = []
    tab.on(
        "request",
        lambda r: None if r.url.startswith((sandbox.url, "data:")) else elsewhere.append(r.url),
    )
    tab.on("pageerror", lambda e: problems.append(str(e)))
    tab.goto(sandbox.url)
    yield tab
    context.close()
    assert elsewhere == [], "the page must load nothing from anywhere else"
    assert problems == [], "the page's script failed"


def be(page: Any, user: str) -> None:
    page.select_option("#who", user)


def type_command(page: Any, text: str) -> None:
    page.fill("#command", text)
    page.press("#command", "Enter")


def switch(page: Any, env: str, which: str) -> Any:
    return page.locator(f'#switches [data-env="{env}"] [data-switch="{which}"]')


def test_request_approve_as_someone_else_switches_off_then_end_restores(page: Any) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    expect(page.locator("#channel-title")).to_have_text("# sis-maint-approvals")
    expect(switch(page, "prod", "nightly")).to_have_text("on")
    expect(switch(page, "prod", "realtime")).to_have_text("on")

    be(page, RILEY)
    type_command(page, "/sis-maint start prod 2h Banner <b>patch</b> & co")
    mine = page.locator("article.ephemeral").filter(has_text="/sis-maint start prod 2h")
    expect(mine).to_contain_text("MW-1 requested: merges off on prod for 2h")
    expect(mine).to_contain_text("Only visible to you")
    card = page.locator("#messages > article.msg").filter(has_text="MW-1: SIS maintenance window")
    expect(card.locator(".bk-header")).to_have_text("MW-1: SIS maintenance window")
    expect(card).to_contain_text("Requested by@Riley Chen")
    # User text is shown as typed, never as markup.
    expect(card).to_contain_text("Banner <b>patch</b> & co")
    expect(page.locator("#messages b")).to_have_count(0)

    # The requester may not approve their own request: the bot says so, to them only.
    card.get_by_role("button", name="Approve").click()
    refusal = page.locator("article.ephemeral").filter(has_text="not an approver")
    expect(refusal).to_be_visible()
    expect(switch(page, "prod", "nightly")).to_have_text("on")

    be(page, ALEX)
    expect(page.locator("article.ephemeral")).to_have_count(0)
    card.get_by_role("button", name="Approve").click()
    expect(switch(page, "prod", "nightly")).to_have_text("off")
    expect(switch(page, "prod", "realtime")).to_have_text("off")
    expect(switch(page, "staging", "nightly")).to_have_text("on")
    expect(card).to_contain_text("Approved by @Alex Morgan")
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    expect(card.locator(".thread")).to_contain_text("merges switched off and verified")

    # No mail server: the notice to Coursedog is one line in the thread, its text in a modal.
    thread = card.locator(".thread")
    draft = thread.locator("article.msg").filter(has_text="No mail server is configured")
    expect(draft).to_have_count(1)
    expect(thread).not_to_contain_text("Hello Coursedog support")
    draft.get_by_role("button", name="Show the draft").click()
    modal = page.locator("#modal")
    expect(modal.locator("#modal-title")).to_have_text("Notice to Coursedog")
    expect(modal.locator("pre").first).to_contain_text("Planned SIS maintenance: MW-1, prod")
    expect(modal.locator("pre").nth(1)).to_contain_text("Hello Coursedog support")
    expect(modal.locator("pre").nth(1)).to_contain_text("Reason: Banner <b>patch</b> & co")
    modal.get_by_role("button", name="Sent it").click()
    expect(page.locator("#modal-backdrop")).to_be_hidden()
    expect(thread).to_contain_text("@Alex Morgan sent the notice to Coursedog")

    # The card keeps End now, which asks first: backing out of the dialog sends nothing.
    be(page, RILEY)
    card.get_by_role("button", name="End now").click()
    dialog = page.get_by_role("dialog", name="End MW-1 now?")
    expect(dialog).to_contain_text("Merges on prod are switched back on now")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_have_count(0)
    page.wait_for_timeout(500)  # a click sent by mistake would have reached the bot by now
    expect(switch(page, "prod", "nightly")).to_have_text("off")
    expect(card.get_by_role("button", name="End now")).to_be_enabled()
    card.get_by_role("button", name="End now").click()
    page.get_by_role("dialog", name="End MW-1 now?").get_by_role("button", name="End now").click()
    expect(card.get_by_role("button", name="End now")).to_have_count(0)
    expect(card.locator(".thread")).to_contain_text("MW-1 ended by @Riley Chen")
    expect(switch(page, "prod", "nightly")).to_have_text("on")
    expect(switch(page, "prod", "realtime")).to_have_text("on")
    expect(card.locator(".thread")).to_contain_text("schedule restored and verified")
    expect(page.locator('#switches [data-env="prod"]')).to_contain_text("2 writes")


def test_the_form_shows_the_bots_errors_and_then_requests_and_the_home_tab_shows_it(
    page: Any,
) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    be(page, SAM)
    page.locator("#channel-list button").filter(has_text="sis-ops").click()
    expect(page.locator("#channel-title")).to_have_text("# sis-ops")
    type_command(page, "/sis-maint")
    modal = page.locator("#modal")
    expect(modal.locator("#modal-title")).to_have_text("SIS maintenance")
    modal.get_by_role("button", name="Request").click()
    envs = modal.locator('.field[data-block-id="envs"]')
    expect(envs.locator(".field-error")).not_to_be_empty()

    modal.get_by_label("At a date and time").check()  # the form is redrawn for that start
    expect(modal.get_by_label("Start date and time", exact=True)).to_be_visible()
    modal.get_by_label("As soon as an approver agrees").check()
    expect(modal.get_by_label("Start date and time", exact=True)).to_have_count(0)

    envs.get_by_label("staging — Staging (simulated)").check()
    modal.get_by_label("Duration", exact=True).fill("1h")
    modal.get_by_label("Reason (optional)").fill("Index rebuild")
    modal.get_by_role("button", name="Request").click()
    expect(page.locator("#modal-backdrop")).to_be_hidden()

    page.locator("#dm-list button").click()
    expect(page.locator("#messages")).to_contain_text("MW-1 requested: merges off on staging")

    be(page, ALEX)
    page.locator("#channel-list button").filter(has_text="sis-maint-approvals").click()
    card = page.locator("#messages > article.msg").filter(has_text="MW-1: SIS maintenance window")
    expect(card).to_contain_text("Index rebuild")
    page.locator("#home-tab").click()
    expect(page.locator("#channel-title")).to_have_text("sis-maint Home")
    expect(page.locator("#messages")).to_contain_text("Coursedog merges")
    expect(page.locator("#messages")).to_contain_text("MW-1")
    expect(page.locator("#composer")).to_be_hidden()


@pytest.fixture
def renderer(browser: Any) -> Iterator[Any]:
    """The page's scripts, served by a workspace with no bot behind it."""
    ws = SandboxWorkspace(people=(Person(RILEY, "Riley Chen", "", False),))
    ws.pages = SandboxPage(ws, list)
    ws.start()
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(ws.base_url + "/")
    tab.wait_for_function("window.BlockKit !== undefined")
    yield tab
    context.close()
    ws.stop()


RENDER = """blocks => {
  const ctx = {people: {U0SBXRILEY: "Riley Chen"}, channels: {C0OPS: "sis-ops"}, onPress: null};
  const node = window.BlockKit.blocks(blocks, ctx);
  return {
    text: node.textContent,
    tags: [...node.querySelectorAll("*")].map(e => e.tagName.toLowerCase()),
    links: [...node.querySelectorAll("a")].map(a => a.href),
  };
}"""


def test_the_block_kit_renderer_shows_what_the_blocks_contain(renderer: Any) -> None:
    def render(*blocks: dict[str, Any]) -> dict[str, Any]:
        return dict(renderer.evaluate(RENDER, list(blocks)))

    section = {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*MW-1* by <@U0SBXRILEY> in <#C0OPS>: &lt;script&gt;x&lt;/script&gt; "
            "_fast_ ~slow~ `code` <https://example.edu/r|report> <javascript:alert(1)|bad>",
        },
    }
    got = render(section)
    assert got["text"] == (
        "MW-1 by @Riley Chen in #sis-ops: <script>x</script> fast slow code report bad"
    )
    assert "script" not in got["tags"]
    assert {"strong", "em", "s", "code", "a"} <= set(got["tags"])
    assert got["links"] == ["https://example.edu/r"]  # only web and mail links are links

    plain = {"type": "header", "text": {"type": "plain_text", "text": "*not bold* <b>x</b>"}}
    got = render(plain)
    assert got["text"] == "*not bold* <b>x</b>" and got["tags"] == ["h3"]

    got = render({"type": "video", "title": "v"}, {"type": "divider"})
    assert got["text"] == "[not shown by the sandbox: video block]" and "hr" in got["tags"]
    select = {"type": "actions", "elements": [{"type": "static_select", "action_id": "pick"}]}
    assert render(select)["text"] == "[not shown by the sandbox: static_select element]"
