"""A reply's own words: quoted originals, help-desk history and signatures are cut; answers are kept."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replybench.classify.newtext import READ_CHARS, new_text, reply_text

QUESTION = "What are your opening hours on 24 and 31 December?"


@pytest.mark.parametrize(
    "separator",
    [
        "On Mon, 23 Nov 2026 at 10:00, Ann Example <ann@p.example> wrote:",
        "Am 23.11.2026 um 10:00 schrieb Ann Example <ann@p.example>:",
        "Le lun. 23 nov. 2026 à 10:00, Ann Example <ann@p.example> a écrit :",
        "El lun, 23 nov 2026 a las 10:00, Ann Example (<ann@p.example>) escribió:",
        "-----Original Message-----",
        "-----Ursprüngliche Nachricht-----",
        "From: Ann Example <ann@p.example>\nSent: Monday, November 23, 2026 10:00\nTo: help@acme.example",
        "Von: Ann Example <ann@p.example>\nGesendet: Montag, 23. November 2026 10:00\nAn: help@acme.example",
    ],
)
def test_the_quoted_inquiry_is_cut_in_many_clients_and_languages(separator: str) -> None:
    body = f"We open from 9 to 14 on both days.\n\n{separator}\n\n{QUESTION}\n"
    got = reply_text(body)
    assert got.new == "We open from 9 to 14 on both days."
    assert got.quoted
    assert "December" not in got.new


def test_interleaved_answers_keep_the_answers_and_drop_the_quoted_lines() -> None:
    body = "> What are your hours on 24 Dec?\n9 to 14.\n> And on 31 Dec?\nClosed.\n"
    got = reply_text(body)
    assert "9 to 14." in got.new and "Closed." in got.new
    assert "Dec?" not in got.new and got.quoted


def test_the_signature_is_split_off() -> None:
    got = reply_text("Yes, we deliver on Saturdays.\n\nKind regards,\nBen Porter\nAcme Customer Service\n")
    assert got.new == "Yes, we deliver on Saturdays."
    assert "Ben Porter" in got.signature


def test_a_help_desk_history_keeps_only_the_newest_comment() -> None:
    body = (
        "##- Please type your reply above this line -##\n\n"
        "Your request (12345) has been updated.\n\n"
        + "-" * 46
        + "\n\nJonas (Acme Support)\n\nMar 5, 2025, 09:41 GMT+1\n\nThe cake is ready on Saturday.\n\n"
        + "-" * 46
        + "\n\nJonas (Acme Support)\n\nMar 4, 2025, 14:02 GMT+1\n\nPlease call us about the inscription.\n"
    )
    got = reply_text(body)
    assert "ready on Saturday" in got.new
    assert "call us" not in got.new, "an older comment is history, not this reply's words"
    assert "##-" not in got.new


def test_a_reply_that_is_only_a_short_thanks_is_kept() -> None:
    assert new_text("Thanks, Anna") == "Thanks, Anna"
    assert new_text("") == ""


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_any_text_gives_a_bounded_part_of_itself(text: str) -> None:
    got = reply_text(text)
    assert len(got.new) <= min(len(text), READ_CHARS)
    assert reply_text(text) == got, "same input, same output"


def test_a_huge_body_is_read_only_up_to_the_limit() -> None:
    body = "We open at nine.\n" + ("x " * 2_000_000)
    got = reply_text(body)
    assert got.new.startswith("We open at nine.")
    assert len(got.new) <= READ_CHARS
