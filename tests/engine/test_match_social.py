"""Matching social posts: threading first, then mention; strangers and our own posts; typed-in replies.

Posts are matched against a real SQLite store holding sent probes with their network post ids.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replybench.channels.base import InboundItem, SendReceipt
from replybench.channels.social import MANUAL_CLOCK, ManualReply, SocialPost, post_key
from replybench.engine.ingest import Ingestor
from replybench.engine.match_social import MENTION_CONFIDENCE, match_post
from replybench.models import REVIEW_THRESHOLD, MessageClass, ProbeState
from replybench.store import RunRecord, Store, open_store
from tests.storebuilders import planned_probes

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
COMPANY = ["acme@social.example", "acme_help@social.example"]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(str(tmp_path / "social.db"))
    yield s
    s.close()


def sent(store: Store, n: int, *, persona: str = "jane@social.example", until: str = "human") -> None:
    """``n`` mastodon probes p0.. sent a minute apart as posts 100, 101, … by ``persona`` to Acme."""
    run = RunRecord("run1", "suite", T0, "running", 1, 86400.0, until, {"targets": {}})
    probes = [
        dataclasses.replace(p, channel="mastodon") for p in planned_probes("run1", n, T0, id_prefix="p")
    ]
    store.create_run(run, probes)
    for i in range(n):
        store.mark_sending(f"p{i}", T0)
        at = T0 + timedelta(minutes=i)
        evidence = {"company_accounts": COMPANY, "persona_account": persona, "post_id": str(100 + i)}
        receipt = SendReceipt(
            at, "mastodon-created_at", evidence, external_id=post_key("mastodon", str(100 + i))
        )
        assert store.mark_sent(f"p{i}", receipt, at + timedelta(days=1))


def post(
    id: str,
    *,
    author: str = "acme@social.example",
    in_reply_to: str | None = None,
    root: str | None = None,
    mentions: tuple[str, ...] = ("jane@social.example",),
    at: datetime = T0 + timedelta(hours=1),
    text: str = "@jane Your order shipped yesterday; it arrives on Friday.",
) -> SocialPost:
    return SocialPost(
        network="mastodon",
        id=id,
        author=author,
        created_at=at,
        clock="mastodon-created_at",
        text=text,
        in_reply_to=in_reply_to,
        root=root,
        mentions=mentions,
    )


def test_a_reply_to_our_post_matches_its_probe_for_certain(store: Store) -> None:
    sent(store, 3)
    m = match_post(store, post("900", in_reply_to="101"))
    assert m.probe is not None and m.probe.id == "p1"
    assert (m.method, m.confidence) == ("in_reply_to", 1.0)


def test_a_reply_from_another_account_of_the_company_counts(store: Store) -> None:
    sent(store, 1)
    m = match_post(store, post("900", in_reply_to="100", author="acme_help@social.example"))
    assert m.probe is not None and m.probe.id == "p0"


def test_a_stranger_in_the_thread_matches_nothing_and_is_named(store: Store) -> None:
    sent(store, 1)
    m = match_post(store, post("900", in_reply_to="100", author="troll@elsewhere.example"))
    assert m.probe is None
    assert "@troll@elsewhere.example" in m.detail and "not an account of the company" in m.detail


def test_our_own_post_is_our_copy(store: Store) -> None:
    sent(store, 1)
    m = match_post(store, post("900", in_reply_to="100", author="jane@social.example"))
    assert m.own_copy and m.probe is not None and m.probe.id == "p0"


def test_a_reply_to_the_companys_earlier_reply_follows_the_thread(store: Store) -> None:
    sent(store, 2)
    ingestor = Ingestor(store)
    first = ManualReply("p1", "acme@social.example", "Thanks, we got it!", T0 + timedelta(minutes=5))
    mid, _ = store.add_inbound(
        InboundItem("mastodon", first.to_json(), first.created_at, MANUAL_CLOCK, "t", key="mastodon:555")
    )
    ingestor.process(mid)
    m = match_post(store, post("901", in_reply_to="555"))
    assert m.probe is not None and m.probe.id == "p1"
    assert m.method == "thread" and m.confidence == 0.95


def test_the_thread_root_names_the_probe(store: Store) -> None:
    sent(store, 2)
    m = match_post(store, post("900", in_reply_to="777", root="100"))
    assert m.probe is not None and m.probe.id == "p0" and m.method == "thread_root"


def test_a_quote_of_our_post_names_the_probe(store: Store) -> None:
    sent(store, 2)
    quote = dataclasses.replace(post("900", mentions=()), extra={"quote_of": "101"})
    m = match_post(store, quote)
    assert m.probe is not None and m.probe.id == "p1" and m.method == "quote"


def test_a_fresh_mention_matches_the_only_watched_probe(store: Store) -> None:
    sent(store, 1)
    m = match_post(store, post("900"))
    assert m.probe is not None and m.probe.id == "p0"
    assert m.method == "mention" and m.confidence == MENTION_CONFIDENCE >= REVIEW_THRESHOLD


def test_a_fresh_mention_with_several_open_probes_waits_for_a_person(store: Store) -> None:
    sent(store, 2)
    m = match_post(store, post("900"))
    assert m.probe is None
    assert "p0" in m.detail and "p1" in m.detail


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"mentions": ("someone@social.example",)}, "another persona"),
        ({"author": "other@corp.example"}, "another company"),
        ({"at": T0 - timedelta(minutes=1)}, "before the probe"),
        ({"at": T0 + timedelta(days=2)}, "after the horizon"),
    ],
)
def test_a_mention_that_cannot_answer_the_probe_matches_nothing(
    store: Store, change: dict[str, object], why: str
) -> None:
    sent(store, 1)
    m = match_post(store, post("900", **change))  # type: ignore[arg-type]
    assert m.probe is None, why


def test_a_typed_in_reply_names_its_probe(store: Store) -> None:
    sent(store, 2)
    m = match_post(store, post("manual-1"), manual_probe_id="p1")
    assert m.probe is not None and m.probe.id == "p1" and m.method == "manual" and m.confidence == 1.0
    assert match_post(store, post("manual-2"), manual_probe_id="nope").probe is None


@settings(max_examples=50, deadline=None)
@given(
    st.text(alphabet="0123456789abc", min_size=1, max_size=8),
    st.one_of(st.none(), st.text(alphabet="0123456789", max_size=6)),
)
def test_matching_never_raises_and_never_invents_a_probe(
    tmp_path_factory: pytest.TempPathFactory, pid: str, ref: str | None
) -> None:
    s = open_store(str(tmp_path_factory.mktemp("h") / "h.db"))
    try:
        sent(s, 2)
        m = match_post(s, post(pid, in_reply_to=ref, root=ref, mentions=()))
        if m.probe is not None:
            assert ref in ("100", "101")
    finally:
        s.close()


def test_the_ingestor_times_a_social_reply_by_the_network_and_closes_on_a_human_answer(store: Store) -> None:
    sent(store, 1)
    reply = ManualReply(
        "p0",
        "acme@social.example",
        "Hi Jane, your parcel left our warehouse today.",
        T0 + timedelta(minutes=42),
    )
    mid, _ = store.add_inbound(
        InboundItem("mastodon", reply.to_json(), reply.created_at, MANUAL_CLOCK, "t", key="mastodon:m1")
    )
    Ingestor(store).process(mid)
    record = store.get_message(mid)
    assert record is not None
    assert record.probe_id == "p0" and record.cls is MessageClass.HUMAN
    assert record.received_at == T0 + timedelta(minutes=42) and record.received_clock == MANUAL_CLOCK
    probe = store.get_probe("p0")
    assert probe is not None and probe.state is ProbeState.CLOSED


def test_an_unreadable_social_item_is_kept_and_marked(store: Store) -> None:
    mid, _ = store.add_inbound(InboundItem("mastodon", b"\xff not json", T0, "observed", "t"))
    Ingestor(store).process(mid)
    record = store.get_message(mid)
    assert record is not None and record.status == "malformed" and record.raw == b"\xff not json"
    assert record.cls is MessageClass.UNKNOWN
