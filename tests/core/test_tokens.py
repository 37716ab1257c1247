from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replybench import tokens

local = st.from_regex(r"[a-z][a-z0-9._-]{0,20}", fullmatch=True).filter(lambda s: "+" not in s)
domain = st.from_regex(r"[a-z][a-z0-9-]{0,10}\.[a-z]{2,6}", fullmatch=True)


@given(local, domain)
def test_plus_address_round_trip(loc: str, dom: str) -> None:
    token = tokens.new_token()
    address = tokens.plus_address(f"{loc}@{dom}", token)
    assert tokens.token_from_address(address) == token
    assert tokens.token_from_address(address.upper()) == token  # some systems upper-case
    assert not tokens.is_sent_copy_address(address)
    copy = tokens.plus_address(f"{loc}@{dom}", token, suffix="sent")
    assert tokens.token_from_address(copy) == token
    assert tokens.is_sent_copy_address(copy)


@given(domain)
def test_message_id_round_trip(dom: str) -> None:
    token = tokens.new_token()
    mid = tokens.message_id_for(token, dom)
    assert mid.startswith("<") and mid.endswith(">")
    assert tokens.token_from_message_id(mid) == token


@given(st.text())
def test_tokens_in_text_only_returns_token_shapes(text: str) -> None:
    for t in tokens.tokens_in_text(text):
        assert tokens.is_token(t)


def test_tokens_found_in_text() -> None:
    token = tokens.new_token()
    assert tokens.tokens_in_text(f"Re: your question [ref {token}]") == [token]
    assert tokens.tokens_in_text(f"x{token}") == []  # must stand alone


def test_plus_in_persona_address_rejected() -> None:
    with pytest.raises(ValueError, match="may not contain"):
        tokens.plus_address("a+b@example.com", tokens.new_token())


def test_tokens_are_unique() -> None:
    assert len({tokens.new_token() for _ in range(10_000)}) == 10_000
