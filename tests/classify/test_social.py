"""The social reply classifier: its rules on typical company replies, and properties that hold for any post."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replybench.channels.social import MANUAL_CLOCK, SocialPost
from replybench.classify import chat, phrases
from replybench.classify.social import CLOCK_SLACK_S, INSTANT_REPLY_S, classify_post
from replybench.models import HUMAN_CLASSES, MessageClass
from replybench.store.records import MessageRecord

SETTINGS = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = 3600.0

A, H, D, U = MessageClass.AUTO_ACK, MessageClass.HUMAN, MessageClass.DEFLECTION, MessageClass.UNKNOWN

# (post text, class, rule, deflect_to): replies an hour after our post from an account the network does not
# mark as a bot, so only the words decide.
CASES: list[tuple[str, MessageClass, str, str | None]] = [
    # deflections to a private message on the same network
    (
        "@acme @jane_doe Hi Jane, please DM us your order number so we can look into it.",
        D,
        "social.deflection",
        "dm",
    ),
    ("Hi @jane, please DM us your order number so we can look into it", D, "social.deflection", "dm"),
    ("@jane Send us a DM with your account email and we'll take a look.", D, "social.deflection", "dm"),
    ("@jane Slide into our DMs 😉", D, "social.deflection", "dm"),
    ("@jane Could you send us a direct message with more details?", D, "social.deflection", "dm"),
    ("@jane Let's take this to DM so we can check your account.", D, "social.deflection", "dm"),
    ("@jane Hi Jane! Could you send your order number via DM? Thanks!", D, "social.deflection", "dm"),
    ("@jane Hey Jane, we've sent you a DM!", D, "social.deflection", "dm"),
    (
        "@jane We can't discuss account details here for privacy reasons. Please DM us.",
        D,
        "social.deflection",
        "dm",
    ),
    (
        "@jane Sorry about that! Could you DM us the email on your account? We'll get it sorted.",
        D,
        "social.deflection",
        "dm",
    ),
    ("@jane Feel free to DM us!", D, "social.deflection", "dm"),
    ("@jane Hallo Jane, schreib uns bitte eine DM mit deiner Bestellnummer.", D, "social.deflection", "dm"),
    ("@jane Schick uns gerne eine PN, dann schauen wir uns das an.", D, "social.deflection", "dm"),
    ("@jane Bonjour, envoyez-nous un MP avec votre numéro de commande.", D, "social.deflection", "dm"),
    ("@jane Hola, envíanos un MD con tu número de pedido.", D, "social.deflection", "dm"),
    ("@jane Hola! Por favor escríbenos por mensaje privado.", D, "social.deflection", "dm"),
    ("@jane Hoi! Stuur ons even een DM met je ordernummer.", D, "social.deflection", "dm"),
    ("@jane Wat vervelend! Kun je ons een DM sturen met je ordernummer?", D, "social.deflection", "dm"),
    # deflections to another account or network
    ("@jane Please reach out to @AcmeHelp, they can help with billing.", D, "social.deflection", "social"),
    ("@jane Tweet @AcmeSupport and they'll help you out.", D, "social.deflection", "social"),
    ("@jane DM us on WhatsApp so we can check.", D, "social.deflection", "social"),
    # deflections to another channel
    ("@jane Our support team is available at support@acme.com", D, "social.deflection", "email"),
    ("@jane Please contact our support at support@acme.com", D, "social.deflection", "email"),
    ("@jane Email us at help@acme.com and we'll sort it out.", D, "social.deflection", "email"),
    ("@jane You can reach us at +1 800 555 0199, we're available 24/7.", D, "social.deflection", "phone"),
    ("@jane We're sorry to hear that. Please call us at 0800 123 456.", D, "social.deflection", "phone"),
    ("@jane Bitte rufen Sie uns unter 0800 123 456 an.", D, "social.deflection", "phone"),
    ("@jane Please fill in our form: https://acme.com/contact", D, "social.deflection", "form"),
    ("@jane Our team is available at https://acme.com/support", D, "social.deflection", "web"),
    # nothing but an address
    ("@jane https://help.acme.com/hc/en-us/requests/new", D, "social.contact_only", "web"),
    ("@jane https://t.co/abc123", D, "social.contact_only", "web"),
    ("@jane Sorry to hear that! support@acme.com", D, "social.contact_only", "email"),
    # canned replies, however slow
    (
        "@jane Thanks for reaching out! We have received your message and a member of our team will get back to "
        "you as soon as possible.",
        A,
        "social.stock_phrase",
        None,
    ),
    (
        "@jane Thanks for reaching out! Our team will get back to you within 24 hours.",
        A,
        "social.stock_phrase",
        None,
    ),
    ("@jane Thanks for reaching out!", A, "social.stock_phrase", None),
    (
        "@jane This is an automated message. Our team will reply within 2 business days.",
        A,
        "social.stock_phrase",
        None,
    ),
    (
        "@jane Hi! I'm Ava, Acme's virtual assistant. How can I help you today?",
        A,
        "social.stock_phrase",
        None,
    ),
    ("@jane Hi there! How can we help you today?", A, "social.stock_phrase", None),
    (
        "@jane Vielen Dank für Ihre Nachricht! Wir haben Ihre Nachricht erhalten und unser Team meldet sich in Kürze.",
        A,
        "social.stock_phrase",
        None,
    ),
    (
        "@jane Merci de nous avoir contactés ! Notre équipe vous répondra dans les plus brefs délais.",
        A,
        "social.stock_phrase",
        None,
    ),
    (
        "@jane Gracias por contactarnos. Hemos recibido tu mensaje y nuestro equipo se pondrá en contacto contigo "
        "pronto.",
        A,
        "social.stock_phrase",
        None,
    ),
    (
        "@jane Bedankt voor je bericht! Ons team neemt zo snel mogelijk contact met je op.",
        A,
        "social.stock_phrase",
        None,
    ),
    # people who promise an answer
    ("@jane Sorry to hear that! We're looking into it.", H, "social.holding", None),
    ("@jane We're looking into it and will update you shortly ^JS", H, "social.holding", None),
    ("@jane We've received your message and we're looking into it ^AB", H, "social.holding", None),
    ("@jane Thanks for your message! We'll get back to you soon.", H, "social.holding", None),
    ("@jane We've escalated this to our engineering team.", H, "social.holding", None),
    ("@jane We'll take a look!", H, "social.holding", None),
    ("@jane Wir prüfen das und melden uns.", H, "social.holding", None),
    ("@jane Nous étudions votre demande et revenons vers vous.", H, "social.holding", None),
    ("@jane Estamos revisando tu caso.", H, "social.holding", None),
    # people who answer, some adding where else to go
    ("@jane Yes, the Pro plan includes offline mode. DM us if you need more help!", H, "social.answer", None),
    (
        "@jane Thanks for reaching out, Jane! The refund went out this morning and should show in 3-5 days.",
        H,
        "social.answer",
        None,
    ),
    ("@jane Hi Jane, thanks for reaching out. Yes, we do ship to Canada!", H, "social.answer", None),
    ("@jane Thanks for reaching out, yes we do", H, "social.answer", None),
    ("@jane Please DM us the details, and we'll refund you right away", H, "social.answer", None),
    ("@jane Yes! Orders placed before 2pm ship the same day. ^MK", H, "social.answer", None),
    ("@jane@mastodon.social Hi Jane, the fix is rolling out today, version 2.3.1.", H, "social.answer", None),
    ("@jane You can download the new version here: https://acme.com/download", H, "social.answer", None),
    ("@jane Hi Jane 👋 The update went out at 3 pm, please restart the app. ^KL", H, "social.answer", None),
    ("@jane Ça devrait être réglé maintenant, merci de votre patience !", H, "social.answer", None),
    ("@jane Sentimos las molestias. Ya está solucionado.", H, "social.answer", None),
    ("@jane Ja, das geht. Ich habe die Adresse in deinem Konto geändert.", H, "social.answer", None),
    # nothing to go on
    ("@jane Hi Jane! 👋", H, "social.formula_only", None),
    ("@jane thanks @jane!", H, "social.formula_only", None),
    ("@jane 👍🙏", U, "social.empty", None),
    ("@acme @jane", U, "social.empty", None),
    ("@jane ...!!! 🎉", U, "social.empty", None),
]


def post(
    text: str,
    *,
    delay: float = HOUR,
    bot: bool = False,
    clock: str = "x-created_at",
    network: str = "x",
) -> SocialPost:
    return SocialPost(
        network=network,
        id=hashlib.sha1(text.encode()).hexdigest()[:12],
        author="acme",
        created_at=SENT + timedelta(seconds=delay),
        clock=clock,
        text=text,
        mentions=("jane",),
        bot=bot,
    )


def record(cls: MessageClass, detail: dict[str, str]) -> MessageRecord:
    now = SENT
    return MessageRecord(1, "x", "x", b"{}", "0", now, "x", now, "classified", cls=cls, detail=detail)


def test_the_table_is_large_and_covers_every_class_and_deflection_target() -> None:
    assert len(CASES) >= 40
    assert {c for _, c, _, _ in CASES} == {A, H, D, U}
    assert {t for *_, t in CASES if t} >= {"dm", "social", "email", "phone", "form", "web"}


@pytest.mark.parametrize(("text", "cls", "rule", "deflect_to"), CASES, ids=[c[0][:50] for c in CASES])
def test_social_replies(text: str, cls: MessageClass, rule: str, deflect_to: str | None) -> None:
    result = classify_post(post(text), sent_at=SENT)
    assert (result.cls, result.rule, result.detail.get("deflect_to")) == (cls, rule, deflect_to)
    assert result.evidence
    assert 0.0 < result.confidence <= 1.0
    assert result.detail["delay_s"] == f"{HOUR:.3f}"
    if cls is D:
        assert result.detail["deflection"]
    if rule == "social.holding":
        assert result.detail["holding"]
        assert record(result.cls, dict(result.detail)).is_holding
    if rule == "social.answer":
        assert "holding" not in result.detail
        assert record(result.cls, dict(result.detail)).is_answer


def test_an_answer_beside_a_dm_offer_is_an_answer_that_records_the_offer() -> None:
    result = classify_post(
        post("@jane Yes, the Pro plan includes offline mode. DM us if you need more help!")
    )
    assert result.detail["deflection_aside"] == "dm us"
    assert result.confidence >= 0.7
    assert "deflect_to" not in result.detail


def test_a_request_to_dm_is_more_certain_than_an_offer() -> None:
    asked = classify_post(post("@jane Please DM us your order number."))
    offered = classify_post(post("@jane Feel free to DM us!"))
    assert asked.cls is offered.cls is D
    assert asked.confidence > offered.confidence
    assert offered.confidence < 0.7  # the review queue's threshold


def test_the_canned_thank_you_an_hour_later_is_automatic_and_keeps_its_promise() -> None:
    result = classify_post(
        post("@jane Thanks for reaching out! Our team will get back to you within 24 hours.", delay=HOUR),
        sent_at=SENT,
    )
    assert (result.cls, result.rule) == (A, "social.stock_phrase")
    assert result.confidence >= 0.8
    assert result.detail["phrase_kind"] == "team"
    assert (result.detail["promise_count"], result.detail["promise_unit"]) == ("24", "hour")
    assert result.cls not in HUMAN_CLASSES


def test_a_deflection_records_its_promise_and_a_holding_reply_its_own() -> None:
    sent_away = classify_post(post("@jane Please DM us and we'll reply within 2 hours."))
    assert (sent_away.cls, sent_away.detail["deflect_to"], sent_away.detail["promise_count"]) == (
        D,
        "dm",
        "2",
    )
    holding = classify_post(post("@jane We're looking into it and will get back to you within 48 hours."))
    assert (holding.rule, holding.detail["promise_count"]) == ("social.holding", "48")


def test_a_signed_canned_looking_reply_is_a_person() -> None:
    unsigned = classify_post(post("@jane We have received your message."))
    signed = classify_post(post("@jane We have received your message. ^JS"))
    assert unsigned.cls is A
    assert (signed.cls, signed.rule, signed.detail["signed"]) == (H, "social.holding", "JS")


def test_the_network_marking_a_bot_decides_even_when_it_deflects() -> None:
    result = classify_post(post("@jane Please DM us your order number.", bot=True), sent_at=SENT)
    assert (result.cls, result.rule, result.detail["deflect_to"]) == (A, "social.bot_account", "dm")
    assert result.confidence == 0.95
    canned = classify_post(post("@jane Thanks for reaching out!", bot=True))
    assert canned.confidence == 0.98


def test_an_instant_reply_is_automatic_and_more_certain_with_a_stock_phrase() -> None:
    plain = classify_post(post("@jane Hi Jane, the store opens at nine.", delay=1.2), sent_at=SENT)
    canned = classify_post(post("@jane Thanks for reaching out!", delay=1.2), sent_at=SENT)
    assert (plain.cls, plain.rule) == (canned.cls, canned.rule) == (A, "social.instant")
    assert canned.confidence > plain.confidence >= 0.8
    assert plain.detail["delay_s"] == "1.200"


def test_an_instant_dm_request_is_automatic_not_a_person_deflecting() -> None:
    result = classify_post(post("@jane Please DM us your order number.", delay=0.8), sent_at=SENT)
    assert (result.cls, result.rule, result.detail["deflect_to"]) == (A, "social.instant", "dm")


@pytest.mark.parametrize(
    ("delay", "instant"),
    [
        (0.0, True),
        (INSTANT_REPLY_S, True),
        (INSTANT_REPLY_S + 0.001, False),
        (60.0, False),
        (-CLOCK_SLACK_S, True),
        (-CLOCK_SLACK_S - 0.5, False),
    ],
)
def test_the_instant_window(delay: float, instant: bool) -> None:
    result = classify_post(post("@jane The store opens at nine.", delay=delay), sent_at=SENT)
    assert (result.rule == "social.instant") is instant


def test_no_instant_rule_without_a_network_time_or_without_sent_at() -> None:
    typed = classify_post(post("@jane The store opens at nine.", delay=1.0, clock=MANUAL_CLOCK), sent_at=SENT)
    assert typed.rule == "social.answer"
    unknown = classify_post(post("@jane The store opens at nine.", delay=1.0))
    assert unknown.rule == "social.answer"
    assert "delay_s" not in unknown.detail


def test_naive_and_offset_times_are_compared_as_instants() -> None:
    reply = post("@jane The store opens at nine.", delay=2.0)
    naive = classify_post(reply, sent_at=SENT.replace(tzinfo=None))
    shifted = classify_post(reply, sent_at=SENT.astimezone(timezone(timedelta(hours=-5))))
    assert naive.rule == shifted.rule == "social.instant"
    assert naive.detail["delay_s"] == shifted.detail["delay_s"] == "2.000"


def test_mentions_and_emoji_alone_are_unknown_and_unsure() -> None:
    for text in ("@jane 👍", "@acme @jane_doe", "@jane@mastodon.social 🙏🙏", "@jane"):
        result = classify_post(post(text))
        assert (result.cls, result.rule) == (U, "social.empty")
        assert result.confidence < 0.5


def test_only_leading_mentions_are_stripped() -> None:
    result = classify_post(post("@acme @jane_doe Please reach out to @AcmeHelp."))
    assert (result.cls, result.detail["deflect_to"]) == (D, "social")


def test_email_and_chat_read_dm_us_as_social_media_as_before() -> None:
    assert phrases.deflection("Please DM us your order number.") == ("social", "dm us")
    assert phrases.deflection("Please DM us your order number.", social=True) == ("dm", "dm us")
    assert phrases.deflection("Slide into our DMs") is None
    assert phrases.read_reply("Our support team is available at support@acme.com").deflection is None
    assert chat.deflection("Please DM us on Instagram so we can check your account.") == ("social", "dm us")


def test_a_bare_link_that_does_not_look_like_support_goes_to_review() -> None:
    support = classify_post(post("@jane https://help.acme.com/article/42"))
    other = classify_post(post("@jane https://t.co/abc123"))
    assert support.confidence >= 0.7 > other.confidence


# ------------------------------------------------------------------------------------------------ properties

SAMPLES = [text for text, *_ in CASES]

PHRASES = [
    "please DM us your order number",
    "send us a direct message",
    "slide into our DMs",
    "thanks for reaching out",
    "we have received your message and our team will get back to you",
    "contact our support at support@acme.com",
    "our support team is available at support@acme.com",
    "we're looking into it",
    "schreib uns bitte eine DM",
    "envoyez-nous un MP",
    "the refund went out this morning",
]
_tz = st.one_of(
    st.none(),
    st.just(UTC),
    st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))),
)
_moments = st.datetimes(timezones=_tz)
_texts = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.one_of(
            st.sampled_from(
                SAMPLES + PHRASES + ["@jane", "@a@b.social", "👍", "^JS", "\n", "https://x.y/help"]
            ),
            st.text(max_size=20),
        ),
        max_size=8,
    ).map(" ".join),
)


@SETTINGS
@given(
    text=_texts,
    created=_moments,
    sent=st.none() | _moments,
    bot=st.booleans(),
    clock=st.sampled_from(["x-created_at", MANUAL_CLOCK]),
)
def test_never_raises_and_is_deterministic(
    text: str, created: datetime, sent: datetime | None, bot: bool, clock: str
) -> None:
    reply = SocialPost("x", "1", "acme", created, clock, text, bot=bot)
    first = classify_post(reply, sent_at=sent)
    again = classify_post(replace(reply), sent_at=sent)
    assert first == again
    assert first.rule.startswith("social.") and first.rule != "social.error"
    assert 0.0 <= first.confidence <= 1.0
    assert isinstance(first.cls, MessageClass)
    assert all(isinstance(v, str) for v in first.detail.values())


def _vary(phrase: str, flips: list[bool], gaps: list[str]) -> str:
    cased = "".join(
        (c.upper() if flips[i % len(flips)] else c.lower()) if flips else c for i, c in enumerate(phrase)
    )
    words = cased.split(" ")
    return words[0] + "".join(gaps[i % len(gaps)] + w for i, w in enumerate(words[1:]))


@SETTINGS
@given(
    phrase=st.sampled_from(PHRASES),
    flips=st.lists(st.booleans(), min_size=1, max_size=12),
    gaps=st.lists(st.sampled_from([" ", "  ", "\t", " \t  "]), min_size=1, max_size=5),
    delay=st.sampled_from([1.0, HOUR]),
)
def test_case_and_spacing_of_phrases_do_not_matter(
    phrase: str, flips: list[bool], gaps: list[str], delay: float
) -> None:
    plain = classify_post(post(f"@jane Hi Jane, {phrase}.", delay=delay), sent_at=SENT)
    varied = classify_post(post(f"@jane Hi Jane, {_vary(phrase, flips, gaps)}.", delay=delay), sent_at=SENT)
    assert (varied.cls, varied.rule, varied.confidence) == (plain.cls, plain.rule, plain.confidence)
    for key in ("deflect_to", "phrase_kind"):
        assert varied.detail.get(key) == plain.detail.get(key)
    assert bool(varied.detail.get("holding")) == bool(plain.detail.get("holding"))


def _instant_confidence(text: str, delay: float) -> float:
    result = classify_post(post(text, delay=delay), sent_at=SENT)
    return result.confidence if result.rule == "social.instant" else 0.0


@SETTINGS
@given(
    text=st.one_of(st.sampled_from(SAMPLES), st.text(max_size=120)),
    delays=st.lists(st.floats(min_value=0.0, max_value=30.0), min_size=2, max_size=6),
)
def test_a_slower_reply_is_never_more_confidently_instant(text: str, delays: list[float]) -> None:
    confidences = [_instant_confidence(text, d) for d in sorted(delays)]
    assert confidences == sorted(confidences, reverse=True)
