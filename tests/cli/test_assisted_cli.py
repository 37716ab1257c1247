"""Assisted mode through the command line: X probes a person posts, `attach`, typed-in replies, API tracking.

The X API is played back from recorded responses (tests/resources/social/assisted/x-flow.json) by a loopback
server; the CLI runs as a subprocess, as a user runs it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import cli as cli_at
from tests.engine.helpers import write_workspace
from tests.replay import ReplayServer, load_cassette

TOKEN_ENV = "RB_TEST_X_TOKEN"
POST_URL = "https://x.com/anna_probe/status/1869001234567890999?s=20"


@pytest.fixture
def x_api() -> Iterator[ReplayServer]:
    """The recorded X API on 127.0.0.1, served from its own thread while the CLI runs."""
    server = ReplayServer(load_cassette("assisted/x-flow.json"))
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        async with server:
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(10)
    yield server
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)


def cli(*args: str, timeout: float = 120):  # type: ignore[no-untyped-def]
    """The CLI in a terminal wide enough that no line wraps."""
    return cli_at(*args, timeout=timeout, columns=200)


def workspace(tmp_path: Path, api: str) -> Path:
    return write_workspace(
        tmp_path / "ws",
        {"acme": '{ profile = "fast" }'},
        mode="live",
        wait="3650d",
        until="human",
        settings='[email.smtp]\nport = 0\n[social]\npoll_interval = "0.2s"\n',
        endpoints={"acme": 'endpoints.x = { account = "@AcmeHelp", url = "https://x.com/AcmeHelp" }'},
        channels=("x",),
        persona=f'x = {{ account = "anna_probe", server = "{api}", token_env = "{TOKEN_ENV}" }}',
        body="Do you deliver on Saturdays?",
    )


def outcome(root: Path) -> dict[str, object]:
    done = cli("export", "--format", "json", "-w", str(root))
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert len(rows) == 1
    return rows[0]


def waiting_probe(root: Path) -> str:
    """Run the suite: the X probe is not posted by replybench but waits for a person."""
    ran = cli("run", "suite", "-w", str(root))
    assert ran.returncode == 0, ran.stderr
    assert "1 probe(s) wait for a person to post them" in ran.stdout
    row = outcome(root)
    assert row["state"] == "assisted" and row["sent_at"] is None
    return str(row["probe_id"])


def test_a_person_posts_attaches_and_types_in_the_reply(
    tmp_path: Path, x_api: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    root = workspace(tmp_path, x_api.base_url)
    probe = waiting_probe(root)
    assert x_api.requests == [], "nothing is posted or read for an assisted probe"

    listed = cli("assisted", "-w", str(root))
    assert listed.returncode == 0, listed.stderr
    assert "@AcmeHelp Do you deliver on Saturdays?" in listed.stdout
    assert "https://x.com/AcmeHelp" in listed.stdout and "as @anna_probe" in listed.stdout
    assert f"replybench attach {probe} URL" in listed.stdout

    status = cli("status", "-w", str(root))
    assert "1 probe(s) wait for a person to post them" in status.stdout

    checked = cli("check", "-w", str(root))
    assert f"x: environment variables not set: {TOKEN_ENV}" in checked.stdout
    assert "assisted for ann" in checked.stdout

    bad_url = cli("attach", probe, "https://example.com/not-a-post", "-w", str(root))
    assert bad_url.returncode == 2 and "Traceback" not in bad_url.stderr
    no_time = cli("attach", probe, POST_URL, "-w", str(root))
    assert no_time.returncode == 2 and "--at" in no_time.stderr

    attached = cli("attach", probe, POST_URL, "--at", "2026-11-24T10:30:00+01:00", "-w", str(root))
    assert attached.returncode == 0, attached.stderr
    assert "sent at 2026-11-24T09:30:00.000Z (manual, as given)" in attached.stdout
    again = cli("attach", probe, POST_URL, "--at", "now", "-w", str(root))
    assert again.returncode == 2 and "is sent, not waiting" in again.stderr

    early = cli("add-reply", probe, "--at", "2026-11-24T09:00:00Z", "--text", "Hi", "-w", str(root))
    assert early.returncode == 2 and "before the probe was posted" in early.stderr
    reply = cli(
        "add-reply",
        probe,
        "--at",
        "2026-11-24T09:42:17Z",
        "--text",
        "@anna_probe Hi Anna, yes: we deliver on Saturdays between 8:00 and 14:00. ^MK",
        "--url",
        "https://x.com/AcmeHelp/status/1869001234567891555",
        "--who",
        "tester",
        "-w",
        str(root),
    )
    assert reply.returncode == 0, reply.stderr
    assert f"human (social.answer), probe {probe}, received 2026-11-24T09:42:17.000Z" in reply.stdout

    row = outcome(root)
    assert row["state"] == "closed"
    assert row["sent_at"] == "2026-11-24T09:30:00.000Z"
    assert row["first_human_at"] == "2026-11-24T09:42:17.000Z"
    assert row["human_response_s"] == pytest.approx(737.0)
    assert x_api.requests == [], "without credentials replybench never calls the API"


def test_with_credentials_the_post_is_looked_up_and_replies_are_tracked_through_the_api(
    tmp_path: Path, x_api: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "recorded-token-do-not-print")
    root = workspace(tmp_path, x_api.base_url)
    probe = waiting_probe(root)

    attached = cli("attach", probe, POST_URL, "--at", "2020-01-01T00:00:00Z", "-w", str(root))
    assert attached.returncode == 0, attached.stderr
    # the network's created_at wins over a time typed in
    assert "sent at 2026-11-24T09:30:00.000Z (x-created_at, looked up on the network)" in attached.stdout
    lookup = x_api.calls("GET", "/2/tweets/1869001234567890999")
    assert lookup and lookup[0].headers["authorization"] == "Bearer recorded-token-do-not-print"

    resumed = cli("run", "suite", "-w", str(root), timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    assert "finished" in resumed.stdout
    assert "recorded-token-do-not-print" not in resumed.stdout + resumed.stderr
    assert x_api.calls("GET", "/2/tweets/search/recent"), "replies are read by conversation search"

    row = outcome(root)
    assert row["state"] == "closed"
    assert row["sent_at"] == "2026-11-24T09:30:00.000Z"
    assert row["first_human_at"] == "2026-11-24T09:42:17.000Z", "timed by the reply's created_at"
    assert row["human_response_s"] == pytest.approx(737.0)
    assert x_api.unmatched == []


def test_a_post_by_someone_else_cannot_be_attached(
    tmp_path: Path, x_api: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "recorded-token")
    root = workspace(tmp_path, x_api.base_url)
    bench = root / "benchmarks" / "suite.toml"
    bench.write_text(bench.read_text().replace('account = "anna_probe"', 'account = "someone_else"'))
    probe = waiting_probe(root)
    done = cli("attach", probe, POST_URL, "-w", str(root))
    assert done.returncode == 2
    assert "written by @anna_probe, not by the persona's account @someone_else" in done.stderr
    assert outcome(root)["state"] == "assisted"


def test_a_probe_that_will_not_be_posted_is_skipped_and_ends_the_run(
    tmp_path: Path, x_api: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    root = workspace(tmp_path, x_api.base_url)
    probe = waiting_probe(root)
    done = cli("attach", probe, "--not-posted", "the account was suspended", "-w", str(root))
    assert done.returncode == 0, done.stderr
    assert outcome(root)["state"] == "skipped"
    again = cli("run", "suite", "-w", str(root))
    assert again.returncode == 0 and "1 probe(s) wait" not in again.stdout


def test_a_facebook_comment_is_attached_by_its_url_and_its_reply_typed_in(tmp_path: Path) -> None:
    root = write_workspace(
        tmp_path / "fb",
        {"acme": '{ profile = "fast" }'},
        mode="live",
        wait="3650d",
        until="human",
        settings="[email.smtp]\nport = 0\n",
        endpoints={
            "acme": 'endpoints.facebook = { account = "104123456789", url = "https://www.facebook.com/acme" }'
        },
        channels=("facebook",),
        persona='facebook = { account = "100012345678" }',
        body="Do you deliver on Saturdays?",
    )
    probe = waiting_probe(root)
    listed = cli("assisted", "-w", str(root))
    assert "Post a comment on a post of https://www.facebook.com/acme" in listed.stdout
    url = "https://www.facebook.com/acme/posts/870000000000002?comment_id=1200000000000003"
    attached = cli("attach", probe, url, "--at", "2026-11-24T11:00", "--tz", "Europe/Berlin", "-w", str(root))
    assert attached.returncode == 0, attached.stderr
    assert "sent at 2026-11-24T10:00:00.000Z (manual, as given)" in attached.stdout
    reply = cli(
        "add-reply",
        probe,
        "--at",
        "2026-11-24T12:30+01:00",
        "--text",
        "Please send us a private message.",
        "-w",
        str(root),
    )
    assert reply.returncode == 0, reply.stderr
    assert "deflection" in reply.stdout
    row = outcome(root)
    assert row["human_response_s"] == pytest.approx(5400.0)
    assert row["first_human_at"] == "2026-11-24T11:30:00.000Z"


def test_the_assisted_prompt_takes_the_url_and_asks_for_the_time_when_it_cannot_look_it_up(
    tmp_path: Path, x_api: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    root = workspace(tmp_path, x_api.base_url)
    probe = waiting_probe(root)
    typed = "https://example.com/nope\n" + POST_URL + "\n2026-11-24T09:30:00Z\n"
    done = cli_at("assisted", "--prompt", "-w", str(root), stdin=typed, columns=200)
    assert done.returncode == 0, done.stderr
    # the wrong URL is explained, then the question is asked again
    assert "'https://example.com/nope' is not an X post address" in done.stderr
    assert f"{probe}: sent at 2026-11-24T09:30:00.000Z (manual, as given)" in done.stdout
    assert outcome(root)["state"] == "sent"
