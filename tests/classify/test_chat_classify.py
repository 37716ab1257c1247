"""The chat classifier: its rules on typical widget messages, and properties that must hold for any text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replybench.channels.chatlog import ChatAuthor, ChatMessage
from replybench.classify import chat as chat_module
from replybench.classify import phrases
from replybench.classify.chat import INSTANT_GREETING_S, classify_chat, deflection, normalise, stock_phrase
from replybench.models import MessageClass

SETTINGS = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INQUIRY = OPENED + timedelta(seconds=5)
AUTHORS: list[ChatAuthor] = ["bot", "agent", "system", "unknown"]

BOT_LINES = [
    "Hi! I'm Sunny, the virtual assistant of Acme. How can I help you today?",
    "Thanks! Connecting you to an agent… Please wait, an agent will be with you shortly.",
    "All our agents are currently busy. You are number 3 in the queue.",
    "Hallo! Ich bin Sunny, der virtuelle Assistent von Acme. Wie kann ich Ihnen helfen?",
    "Danke! Ich verbinde Sie mit einem Mitarbeiter… Bitte warten Sie einen Moment.",
    "Bonjour, je suis un chatbot. Veuillez patienter, un conseiller va vous répondre.",
    "Hola, soy un bot. Le estamos conectando con un agente.",
    "Ciao! Sono l'assistente virtuale. La stiamo mettendo in contatto con un operatore.",
    "Hoi! Ik ben een chatbot. Even geduld, een medewerker komt eraan.",
]
DEFLECTIONS = [
    ("For questions about invoices please call us at 0800 123 456.", "phone"),
    ("Please use our contact form, we answer within two days.", "form"),
    ("Could you send us an email with your order number?", "email"),
    ("You'll find that in our help center under Shipping.", "web"),
    ("Bitte rufen Sie uns an, dann klären wir das.", "phone"),
    ("Nutzen Sie dafür bitte unser Kontaktformular.", "form"),
    ("Merci d'utiliser notre formulaire de contact.", "form"),
    ("Por favor, envíenos un correo con los detalles.", "email"),
    ("Please DM us on Instagram so we can check your account.", "social"),
    ("Bitte schicken Sie uns das unterschriebene Formular per Post.", "post"),
    ("Bel ons even op 020 123 4567.", "phone"),
    ("Ci chiami al numero verde, grazie.", "phone"),
]
COURTESY_LINES = [
    "Yes, we do. If you have any further questions, feel free to call us.",
    "Natürlich! Bei weiteren Fragen rufen Sie uns gerne an.",
    "Oui, c'est possible. N'hésitez pas à nous appeler si vous avez d'autres questions.",
    "Sí. Si tiene alguna otra duda, llámenos.",
]
PERSON_LINES = [
    "Hi Anna, this is Maria. Yes, we deliver on Saturdays in most cities.",
    "I've checked your order: it left our warehouse this morning.",
    "Ja, das geht. Ich habe es für Sie vermerkt.",
]


def message(
    text: str,
    author: ChatAuthor = "unknown",
    *,
    after_open: float = 10.0,
    inquiry: datetime | None = INQUIRY,
    name: str | None = None,
    earlier: tuple[tuple[str, str | None, str], ...] = (),
) -> ChatMessage:
    return ChatMessage(
        probe_id="p1",
        token="tok",
        seq=1,
        author=author,
        text=text,
        at=OPENED + timedelta(seconds=after_open),
        page_opened_at=OPENED,
        inquiry_at=inquiry,
        name=name,
        earlier=earlier,
    )


# ------------------------------------------------------------------------------------------ rules


@pytest.mark.parametrize("text", BOT_LINES)
def test_stock_bot_lines_are_automatic_whatever_the_markup_says_nothing(text: str) -> None:
    verdict = classify_chat(message(text))
    assert verdict.cls is MessageClass.AUTO_ACK
    assert verdict.rule in ("chat.bot_identity", "chat.handoff_phrase")
    assert verdict.detail["phrase_kind"] in ("identity", "handoff")
    assert verdict.detail["author_hint"] == "unknown"


@pytest.mark.parametrize(("text", "where"), DEFLECTIONS)
def test_being_sent_elsewhere_is_a_deflection(text: str, where: str) -> None:
    for author in ("agent", "unknown", "bot"):
        verdict = classify_chat(message(text, author))  # type: ignore[arg-type]
        assert verdict.cls is MessageClass.DEFLECTION
        assert verdict.detail["deflect_to"] == where
        assert verdict.confidence == (0.85 if author == "agent" else 0.8)


@pytest.mark.parametrize("text", PERSON_LINES)
def test_agent_markup_without_stock_phrases_is_a_person(text: str) -> None:
    verdict = classify_chat(message(text, "agent", name="Maria Keller"))
    assert (verdict.cls, verdict.rule, verdict.confidence) == (MessageClass.HUMAN, "chat.author_agent", 0.9)
    assert classify_chat(message(text, "bot")).cls is MessageClass.AUTO_ACK
    assert classify_chat(message(text, "system")).cls is MessageClass.AUTO_ACK
    assert classify_chat(message(text)).cls is MessageClass.UNKNOWN


@pytest.mark.parametrize("text", COURTESY_LINES)
def test_a_channel_offered_as_a_courtesy_is_not_a_deflection(text: str) -> None:
    verdict = classify_chat(message(text, "agent", name="Maria"))
    assert (verdict.cls, verdict.rule) == (MessageClass.HUMAN, "chat.author_agent")
    assert deflection(text) is None


def test_chat_and_email_read_deflections_from_one_phrase_table() -> None:
    assert chat_module.deflection is phrases.deflection
    assert chat_module.normalise is phrases.normalise
    kinds = {kind for kind, _ in phrases.DEFLECTIONS}
    assert {"phone", "form", "email", "web", "social", "post", "branch", "elsewhere"} == kinds


def test_instant_greeting_before_the_inquiry_is_automatic_even_dressed_up_as_a_person() -> None:
    greeting = message("Hi, I'm Maria! Ask me anything.", "agent", after_open=0.4, inquiry=None, name="Maria")
    verdict = classify_chat(greeting)
    assert (verdict.cls, verdict.rule) == (MessageClass.AUTO_ACK, "chat.instant_greeting")
    assert verdict.detail["before_inquiry"] == "true"
    late = message(
        "Hi, I'm Maria! Ask me anything.", "agent", after_open=INSTANT_GREETING_S + 1, inquiry=None
    )
    assert classify_chat(late).rule == "chat.author_agent"
    assert classify_chat(late).detail["before_inquiry"] == "true"


def test_a_new_name_after_connecting_you_is_a_person_even_without_markup() -> None:
    earlier = (
        ("unknown", "Sunny", "Hi! How can I help you today?"),
        ("unknown", "Sunny", "Connecting you to an agent, please wait."),
        ("system", None, "Maria joined the chat"),
    )
    verdict = classify_chat(message("Hello Anna, yes we do.", name="Maria Keller", earlier=earlier))
    assert (verdict.cls, verdict.rule, verdict.confidence) == (
        MessageClass.HUMAN,
        "chat.agent_takeover",
        0.85,
    )
    assert verdict.detail["taken_over_from"] == "Sunny"
    same = classify_chat(message("Still checking.", name="Sunny", earlier=earlier))
    assert same.cls is MessageClass.UNKNOWN
    marked = classify_chat(message("Hello Anna, yes we do.", "agent", name="Maria Keller", earlier=earlier))
    assert (marked.rule, marked.confidence) == ("chat.agent_takeover", 0.95)


def test_name_change_without_hand_over_is_a_weaker_person_signal() -> None:
    earlier = (("unknown", "Sunny", "Hello there"),)
    verdict = classify_chat(message("Yes, that's included.", name="Tom", earlier=earlier))
    assert (verdict.cls, verdict.rule, verdict.confidence) == (MessageClass.HUMAN, "chat.name_change", 0.65)


def test_agent_markup_with_a_bot_identity_is_automatic_but_less_sure() -> None:
    verdict = classify_chat(message("I'm the virtual assistant, I can help with orders.", "agent"))
    assert (verdict.cls, verdict.rule, verdict.confidence) == (
        MessageClass.AUTO_ACK,
        "chat.bot_identity",
        0.7,
    )
    polite = classify_chat(message("Please wait while I check that for you.", "agent"))
    assert (polite.cls, polite.confidence) == (MessageClass.HUMAN, 0.75)


def test_own_message_is_own_copy() -> None:
    verdict = classify_chat(message("Do you deliver on Saturdays?", "visitor"))
    assert verdict.cls is MessageClass.OWN_COPY


# ------------------------------------------------------------------------------------------ properties

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)
# Noise that can never spell a stock or deflection phrase: digits, punctuation, and consonant clusters.
noise = st.text(st.sampled_from(list("0123456789 .,;!?-#xzqvkj")), max_size=30)


def flip_case(text: str, flips: list[bool]) -> str:
    padded = (flips + [False] * len(text))[: len(text)]
    return "".join(c.upper() if flip else c.lower() for c, flip in zip(text, padded, strict=True))


@SETTINGS
@given(
    text=texts,
    author=st.sampled_from(AUTHORS),
    at_us=st.integers(0, 60_000_000),
    inquiry_us=st.one_of(st.none(), st.integers(0, 60_000_000)),
    name=st.one_of(st.none(), st.text(max_size=20)),
)
def test_anything_rendered_before_the_inquiry_is_flagged_and_nothing_raises(
    text: str, author: ChatAuthor, at_us: int, inquiry_us: int | None, name: str | None
) -> None:
    inquiry_at = None if inquiry_us is None else OPENED + timedelta(microseconds=inquiry_us)
    msg = message(text, author, after_open=at_us / 1e6, inquiry=inquiry_at, name=name)
    verdict = classify_chat(msg)
    before = inquiry_us is None or at_us < inquiry_us
    assert verdict.detail["before_inquiry"] == ("true" if before else "false")
    assert verdict.detail["author_hint"] == author
    assert 0.0 <= verdict.confidence <= 1.0
    assert classify_chat(ChatMessage.from_json(msg.to_json())) == verdict  # pure: the stored bytes decide


@SETTINGS
@given(
    line=st.sampled_from(BOT_LINES),
    flips=st.lists(st.booleans(), max_size=120),
    before=noise,
    after=noise,
    spaces=st.sampled_from([" ", "  ", "\n", "\t "]),
    author=st.sampled_from(["unknown", "bot"]),
)
def test_case_spacing_and_noise_never_flip_a_stock_phrase(
    line: str, flips: list[bool], before: str, after: str, spaces: str, author: ChatAuthor
) -> None:
    plain = classify_chat(message(line, author))
    varied = f"{before} {flip_case(line, flips).replace(' ', spaces)} {after}"
    verdict = classify_chat(message(varied, author))
    assert verdict.cls is MessageClass.AUTO_ACK
    assert (verdict.rule, verdict.detail.get("phrase_kind")) == (plain.rule, plain.detail.get("phrase_kind"))


@SETTINGS
@given(
    case=st.sampled_from(DEFLECTIONS),
    flips=st.lists(st.booleans(), max_size=120),
    before=noise,
    after=noise,
    author=st.sampled_from(AUTHORS),
)
def test_case_and_noise_never_flip_a_deflection(
    case: tuple[str, str], flips: list[bool], before: str, after: str, author: ChatAuthor
) -> None:
    text, where = case
    verdict = classify_chat(message(f"{before} {flip_case(text, flips)} {after}", author))
    assert verdict.cls is MessageClass.DEFLECTION
    assert verdict.detail["deflect_to"] == where


@SETTINGS
@given(text=texts, name=st.one_of(st.none(), st.text(max_size=20)))
def test_agent_markup_and_no_stock_phrase_after_the_inquiry_is_a_person(text: str, name: str | None) -> None:
    if stock_phrase(text) is not None or deflection(text) is not None:
        return
    verdict = classify_chat(message(text, "agent", name=name))
    assert verdict.cls is MessageClass.HUMAN
    assert verdict.detail["before_inquiry"] == "false"


@SETTINGS
@given(text=texts, ascii_text=st.text(st.characters(max_codepoint=127), max_size=100))
def test_normalising_is_idempotent_and_case_blind(text: str, ascii_text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert normalise(ascii_text.upper()) == normalise(ascii_text.lower())


def test_a_bots_response_time_promise_is_recorded_like_an_acknowledgements() -> None:
    verdict = classify_chat(message("Thanks! An agent will reply within 2 hours.", "bot"))
    assert verdict.cls is MessageClass.AUTO_ACK
    assert (verdict.detail["promise_count"], verdict.detail["promise_unit"]) == ("2", "hour")


def test_a_persons_chat_message_carries_no_promise() -> None:
    verdict = classify_chat(message("Sure, delivery takes 2 business days to your area.", "agent"))
    assert verdict.cls is MessageClass.HUMAN
    assert "promise" not in verdict.detail
