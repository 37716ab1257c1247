"""`replybench review` and `replybench override` as a person uses them: a terminal, typed decisions, a store."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from replybench import operations
from replybench.channels.base import InboundItem, SendReceipt
from replybench.engine.ingest import Ingestor
from replybench.models import MessageClass, Target
from replybench.store import RunRecord, Store
from tests.cli.test_cli import cli
from tests.engine.helpers import write_workspace
from tests.engine.test_match import T0
from tests.storebuilders import planned_probes


def _reply(body: str, sender: str = "agent@t.example") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "a@p.example"
    msg["Subject"] = "Re: your question"
    msg["Message-ID"] = f"<{abs(hash(body))}@t.example>"
    msg.set_content(body)
    return msg.as_bytes()


def _open(root: Path) -> Store:
    return operations.workspace_store(operations.open_workspace(root))


def _workspace_with_a_guess(tmp_path: Path) -> tuple[Path, int]:
    """A store holding one reply matched only by its sender's domain (an unsure match) and one sure one."""
    root = write_workspace(tmp_path / "ws", {"t": '{ profile = "fast" }'})
    store = _open(root)
    snapshot = {"targets": {"t": Target(id="t", name="T Ltd").model_dump(mode="json")}}
    run = RunRecord("run1", "suite", T0, "running", 1, 86400.0, "human", snapshot)
    store.create_run(run, planned_probes("run1", 1, T0, id_prefix="p"))
    store.mark_sending("p0", T0)
    store.mark_sent("p0", SendReceipt(T0, "smtp-250", {}), T0 + timedelta(days=1))
    probe = store.get_probe("p0")
    assert probe is not None
    ingestor = Ingestor(store, wait_limits=lambda _run: (timedelta(days=1), "human"))
    hostile = "We open at nine.\x1b[31m RED \x1b]8;;http://evil.example\x07link\x1b]8;;\x07 [bold]x[/bold]"

    async def main() -> None:
        at = T0 + timedelta(hours=1)
        await ingestor.accept(InboundItem("email", _reply(hostile), at, "smtp-receipt", "smtp://t"))
        await ingestor.accept(
            InboundItem(
                "email",
                _reply("A sure one."),
                at,
                "smtp-receipt",
                "smtp://t",
                envelope_to=(probe.reply_address,),
            )
        )
        await ingestor.drain()

    asyncio.run(main())
    (guess,) = [m for m in store.messages() if m.match_method == "sender_domain"]
    store.close()
    return root, guess.id


def test_review_lists_only_unsure_decisions_without_terminal_escapes(tmp_path: Path) -> None:
    root, _ = _workspace_with_a_guess(tmp_path)
    done = cli("review", "--list", "-w", str(root), columns=200)
    assert done.returncode == 0, done.stderr
    assert "1 to review" in done.stdout
    assert "sender_domain" in done.stdout
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "[bold]x[/bold]" in done.stdout, "company text is shown literally, not as console markup"
    assert "A sure one" not in done.stdout


def test_a_typed_decision_is_stored_with_who_and_wins(tmp_path: Path) -> None:
    root, guess = _workspace_with_a_guess(tmp_path)
    done = subprocess_review(root, "zzz\nd\n")
    assert done.returncode == 0, done.stderr
    assert "unknown class 'zzz'" in done.stderr, "a typo is explained and asked again, not fatal"
    assert "1 decision(s) stored as rita" in done.stdout
    store = _open(root)
    message = store.get_message(guess)
    assert message is not None and message.override is not None
    assert (message.cls, message.override.who) == (MessageClass.DEFLECTION, "rita")
    assert message.override.machine_cls is MessageClass.HUMAN
    assert [
        o.deflected for o in operations.outcomes(operations.open_workspace(root), ["run1"], store=store)
    ] == [True]
    store.close()
    again = cli("review", "--list", "-w", str(root))
    assert "Nothing to review" in again.stdout


def test_enter_confirms_and_q_quits(tmp_path: Path) -> None:
    root, guess = _workspace_with_a_guess(tmp_path)
    quit_first = subprocess_review(root, "q\n")
    assert "0 decision(s)" in quit_first.stdout
    confirmed = subprocess_review(root, "\n")
    assert "1 decision(s)" in confirmed.stdout
    store = _open(root)
    message = store.get_message(guess)
    assert message is not None and message.override is not None
    assert message.cls is MessageClass.HUMAN and message.probe_id == "p0"
    store.close()


def test_override_command_unmatches_and_refuses_nonsense(tmp_path: Path) -> None:
    root, guess = _workspace_with_a_guess(tmp_path)
    done = cli("override", str(guess), "--unmatch", "--note", "spam", "--who", "rita", "-w", str(root))
    assert done.returncode == 0, done.stderr
    assert "probe none" in done.stdout
    bad = cli("override", str(guess), "--class", "own_copy", "--who", "rita", "-w", str(root))
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "own_copy" in bad.stderr
    missing = cli("override", "999", "--class", "human", "-w", str(root))
    assert missing.returncode != 0 and "no message 999" in missing.stderr


def subprocess_review(root: Path, typed: str) -> subprocess.CompletedProcess[str]:
    """Run the interactive queue with ``typed`` as what the person types."""
    return cli("review", "-w", str(root), "--who", "rita", stdin=typed, columns=200)


def test_reassigning_to_an_unknown_probe_is_explained_then_a_known_one_is_stored(tmp_path: Path) -> None:
    root, guess = _workspace_with_a_guess(tmp_path)
    done = subprocess_review(root, "p nope\np p0\n")
    assert done.returncode == 0, done.stderr
    assert "no probe nope" in done.stderr
    assert "1 decision(s)" in done.stdout
    store = _open(root)
    message = store.get_message(guess)
    assert message is not None and message.override is not None
    assert (message.probe_id, message.override.probe_id) == ("p0", "p0")
    store.close()
