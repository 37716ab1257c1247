"""Response promises: a table of phrasings in seven languages (and traps), deadlines on a real clock, properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replybench.classify.promise import READ_CHARS, Promise, extract_promise
from replybench.clock import BusinessClock
from replybench.models import BusinessHours

BERLIN = ZoneInfo("Europe/Berlin")
SETTINGS = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

Expected = tuple[float, str, bool] | None

TABLE: list[tuple[str, Expected]] = [
    # English
    ("Thank you for your email. We will get back to you within 24 hours.", (24, "hour", False)),
    ("We aim to respond in 2 business days.", (2, "day", True)),
    ("A member of our team will reply within one working day.", (1, "day", True)),
    ("We typically respond within 1-2 business days.", (2, "day", True)),
    ("You will hear from us within 48 hrs.", (48, "hour", False)),
    ("Our support team will get back to you by the end of the next business day.", (1, "day", True)),
    ("Expect a reply within 24h.", (24, "hour", False)),
    ("We usually reply in a day or two.", (2, "day", False)),
    ("An agent will be with you in about 5 minutes.", (5, "minute", False)),
    ("Response time: 4 business hours", (4, "hour", True)),
    ("Thanks for your message! Please allow 3 to 5 working days for a response.", (5, "day", True)),
    ("We will respond within two weeks.", (2, "week", False)),
    ("We will answer within the next hour.", (1, "hour", False)),
    ("Our team will reply within half an hour.", (0.5, "hour", False)),
    ("We received your request.\n\nWe will be in touch within 24 to 48 hours.", (48, "hour", False)),
    ("Your ticket has been received and will be handled within 3 business days.", (3, "day", True)),
    ("We aim to reply within 4 hours, and always within 2 business days.", (4, "hour", False)),
    ("We will reply soon. Please allow up to 2 business weeks.", (2, "week", True)),
    (
        "Your order ships within 2 days and we will reply to your question within 24 hours.",
        (24, "hour", False),
    ),
    ("Replies are sent within 24 hours on working days.", (24, "hour", False)),
    ("We will get back to you\nwithin 3 working days (Mon-Fri).", (3, "day", True)),
    ("WE WILL RESPOND WITHIN 72 HOURS.", (72, "hour", False)),
    # German
    (
        "Vielen Dank für Ihre Nachricht. Wir melden uns innerhalb von 48 Stunden bei Ihnen.",
        (48, "hour", False),
    ),
    ("Ihre Anfrage wird in der Regel innerhalb von 2 Werktagen bearbeitet.", (2, "day", True)),
    ("Wir beantworten Ihre Anfrage binnen zwei Arbeitstagen.", (2, "day", True)),
    ("Sie erhalten innerhalb von 72 Std. eine Antwort.", (72, "hour", False)),
    ("Wir melden uns spätestens am nächsten Werktag.", (1, "day", True)),
    ("Wir antworten innerhalb eines Werktages.", (1, "day", True)),
    ("Reaktionszeit: 24h", (24, "hour", False)),
    (
        "Wir sind Mo-Fr von 9-17 Uhr erreichbar und antworten in der Regel innerhalb von 4 Stunden.",
        (4, "hour", False),
    ),
    ("Wir werden uns innerhalb von drei Werktagen bei Ihnen melden.", (3, "day", True)),
    # French
    ("Nous vous répondrons sous 48 heures.", (48, "hour", False)),
    ("Nous reviendrons vers vous dans un délai de 3 jours ouvrés.", (3, "day", True)),
    ("Votre demande sera traitée sous deux jours ouvrables.", (2, "day", True)),
    ("Nous vous répondrons dans les 24h.", (24, "hour", False)),
    ("Un conseiller vous recontactera entre 24h et 48h.", (48, "hour", False)),
    # Spanish
    ("Le responderemos en un plazo de 24 horas.", (24, "hour", False)),
    ("Nos pondremos en contacto contigo en 2 días hábiles.", (2, "day", True)),
    ("Recibirás una respuesta en tres días laborables.", (3, "day", True)),
    ("Tiempo de respuesta: 1 a 2 días hábiles.", (2, "day", True)),
    ("Le responderemos en dos dias habiles.", (2, "day", True)),
    # Italian
    ("Ti risponderemo entro 24 ore.", (24, "hour", False)),
    ("Riceverai una risposta entro 2 giorni lavorativi.", (2, "day", True)),
    ("Il nostro team ti ricontatterà entro due giorni lavorativi.", (2, "day", True)),
    ("Ti risponderemo entro un'ora.", (1, "hour", False)),
    # Dutch
    ("Wij reageren binnen 2 werkdagen.", (2, "day", True)),
    ("U ontvangt binnen 24 uur een antwoord.", (24, "hour", False)),
    ("We nemen binnen één werkdag contact met u op.", (1, "day", True)),
    ("Wij komen binnen drie werkdagen bij u terug.", (3, "day", True)),
    # Swedish
    ("Vi återkommer inom 24 timmar.", (24, "hour", False)),
    ("Du får svar inom två arbetsdagar.", (2, "day", True)),
    # not response promises
    ("We are open 24 hours.", None),
    ("Our customer service is available 24 hours a day, 7 days a week.", None),
    ("Delivery within 3 days.", None),
    ("Your order will be delivered within 3 days.", None),
    ("Thanks for your order, it will ship within 2 days.", None),
    ("Refunds are processed within 14 days.", None),
    ("Thank you for contacting us! Our 30-day return policy applies.", None),
    ("Opening hours: Mon-Fri 9-17", None),
    ("We received your message on 12.03.2024 and will reply on 14 March.", None),
    ("We will respond to questions about delivery within 3 days.", None),  # the nearer blocker wins
    ("Thanks for your email. Our office is closed for 2 weeks.", None),
    ("Lieferung innerhalb von 3 Werktagen.", None),
    ("Livraison sous 48h.", None),
    ("Envío en 24 horas.", None),
    ("Consegna entro 2 giorni lavorativi.", None),
    ("Levering binnen 2 werkdagen.", None),
    ("Leverans inom 3 dagar.", None),
    # vague: no number can be justified
    ("We will get back to you as soon as possible.", None),
    ("We will reply within the next few hours.", None),
    ("We will reply in a couple of days.", None),
    ("Wir melden uns schnellstmöglich bei Ihnen.", None),
    ("Nous vous répondrons dans les plus brefs délais.", None),
    ("Le responderemos lo antes posible.", None),
    # times of day are not durations
    ("Nous répondons entre 9h et 17h.", None),
    ("Nous vous répondrons d'ici 17h.", None),
    ("We will reply by 5 pm.", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "expected"), TABLE, ids=[f"{i:02d}" for i in range(len(TABLE))])
def test_table(text: str, expected: Expected) -> None:
    promise = extract_promise(text)
    if expected is None:
        assert promise is None, promise
        return
    assert promise is not None
    assert (promise.count, promise.unit, promise.business) == (float(expected[0]), expected[1], expected[2])
    assert promise.phrase
    assert len(promise.phrase) <= 120
    assert "\n" not in promise.phrase


def test_table_is_big_enough() -> None:
    assert len(TABLE) >= 40
    assert sum(e is None for _, e in TABLE) >= 10


def test_phrase_is_the_evidence_in_the_original_spelling() -> None:
    promise = extract_promise(
        "Merci !\n\nNous reviendrons vers vous dans un délai de 3 jours ouvrés. Cordialement"
    )
    assert promise is not None
    assert promise.phrase == "reviendrons vers vous dans un délai de 3 jours ouvrés"


def test_phrase_is_one_line_of_at_most_120_characters() -> None:
    promise = extract_promise("We will respond " + "really " * 20 + "\n within 2 days")
    assert promise is not None
    assert promise.phrase == "within 2 days"
    long_cue = extract_promise("We\nwill\nreply\nwithin\n24 hours")
    assert long_cue is not None and long_cue.phrase == "reply within 24 hours"


def test_the_first_promise_in_reading_order_wins() -> None:
    promise = extract_promise("We reply within 2 hours in chat; emails are answered within 3 business days.")
    assert promise is not None and (promise.count, promise.unit) == (2.0, "hour")


def test_only_the_first_read_chars_are_read() -> None:
    assert extract_promise("x" * READ_CHARS + " We will reply within 24 hours.") is None
    assert extract_promise("x " * 100 + "\n\nWe will reply within 24 hours.") is not None


def test_calendar_seconds() -> None:
    assert Promise(24, "hour", False, "").calendar_seconds == 24 * 3600
    assert Promise(2, "week", False, "").calendar_seconds == 14 * 86400
    assert Promise(30, "minute", False, "").calendar_seconds == 1800
    assert Promise(2, "day", True, "").calendar_seconds is None


# --------------------------------------------------------------------------------------------- deadlines


def office() -> BusinessClock:
    """Berlin clock, German public holidays, Mon-Fri 09:00-17:00."""
    return BusinessClock(BusinessHours(weekdays=["09:00-17:00"]), "Europe/Berlin", "DE")


def berlin(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN)


def test_monday_two_business_days_is_wednesday_closing() -> None:
    promise = Promise(2, "day", True, "")
    due = promise.deadline(berlin(2026, 12, 7, 10), office())  # Monday
    assert due == berlin(2026, 12, 9, 17)  # Wednesday 17:00
    assert due is not None and due.tzinfo is UTC
    # Late on Monday or early Monday: the counting starts the day after either way.
    assert promise.deadline(berlin(2026, 12, 7, 23, 30), office()) == berlin(2026, 12, 9, 17)
    assert promise.deadline(berlin(2026, 12, 7, 0, 5), office()) == berlin(2026, 12, 9, 17)


def test_saturday_two_business_days_is_tuesday_closing() -> None:
    assert Promise(2, "day", True, "").deadline(berlin(2026, 12, 5, 11), office()) == berlin(2026, 12, 8, 17)


def test_business_days_skip_public_holidays() -> None:
    # Wednesday 23 December 2026: Thursday 24th counts, 25th and 26th are holidays, then the weekend.
    due = Promise(2, "day", True, "").deadline(berlin(2026, 12, 23, 9), office())
    assert due == berlin(2026, 12, 28, 17)


def test_business_week_is_five_business_days() -> None:
    due = Promise(1, "week", True, "").deadline(berlin(2026, 12, 7, 10), office())
    assert due == berlin(2026, 12, 14, 17)  # the next Monday


def test_fractional_business_days_round_up() -> None:
    assert Promise(1.5, "day", True, "").deadline(berlin(2026, 12, 7, 10), office()) == berlin(
        2026, 12, 9, 17
    )


def test_business_hours_cross_the_night() -> None:
    # Monday 16:00 + 4 business hours: 1 hour on Monday, 3 on Tuesday from 09:00.
    due = Promise(4, "hour", True, "").deadline(berlin(2026, 12, 7, 16), office())
    assert due == berlin(2026, 12, 8, 12)
    # Friday 16:30 + 30 business minutes ends at closing; + 90 minutes continues on Monday.
    assert Promise(30, "minute", True, "").deadline(berlin(2026, 12, 11, 16, 30), office()) == berlin(
        2026, 12, 11, 17
    )
    assert Promise(90, "minute", True, "").deadline(berlin(2026, 12, 11, 16, 30), office()) == berlin(
        2026, 12, 14, 10
    )


def test_dst_week_in_berlin() -> None:
    # Summer time ends on Sunday 25 October 2026. Friday 23rd + 2 business days = Tuesday 27th 17:00 CET.
    due = Promise(2, "day", True, "").deadline(berlin(2026, 10, 23, 10), office())
    assert due == datetime(2026, 10, 27, 16, tzinfo=UTC)
    # A calendar promise counts elapsed time: 24 hours from Saturday noon (CEST) is Sunday 11:00 (CET).
    due = Promise(24, "hour", False, "").deadline(berlin(2026, 10, 24, 12), office())
    assert due == datetime(2026, 10, 25, 10, tzinfo=UTC)
    assert due.astimezone(BERLIN).hour == 11
    # Business hours over the change: Friday 16:00 + 2 business hours is Monday 10:00 CET.
    due = Promise(2, "hour", True, "").deadline(berlin(2026, 10, 23, 16), office())
    assert due == datetime(2026, 10, 26, 9, tzinfo=UTC)


def test_calendar_promise_needs_no_clock() -> None:
    start = berlin(2026, 12, 5, 11)
    assert Promise(48, "hour", False, "").deadline(start, None) == start + timedelta(hours=48)
    assert Promise(3, "day", False, "").deadline(start, office()) == start + timedelta(days=3)


def test_business_promise_without_clock_cannot_be_dated() -> None:
    assert Promise(2, "day", True, "").deadline(berlin(2026, 12, 7, 10), None) is None
    assert Promise(4, "hour", True, "").deadline(berlin(2026, 12, 7, 10), None) is None


def test_naive_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Promise(24, "hour", False, "").deadline(datetime(2026, 12, 7, 10), None)
    with pytest.raises(ValueError, match="timezone-aware"):
        Promise(2, "day", True, "").deadline(datetime(2026, 12, 7, 10), office())


def test_always_open_company_closes_its_day_at_midnight() -> None:
    clock = BusinessClock(
        BusinessHours(weekdays=["00:00-24:00"], sat=["00:00-24:00"], sun=["00:00-24:00"], holidays=False),
        "Europe/Berlin",
    )
    assert Promise(2, "day", True, "").deadline(berlin(2026, 12, 7, 10), clock) == berlin(2026, 12, 10)


def test_overnight_opening_closes_the_next_morning() -> None:
    clock = BusinessClock(BusinessHours(weekdays=[], fri=["22:00-06:00"], holidays=False), "Europe/Berlin")
    # Monday: the first opening day after it is Friday, whose shift ends on Saturday at 06:00.
    assert Promise(1, "day", True, "").deadline(berlin(2026, 12, 7, 10), clock) == berlin(2026, 12, 12, 6)
    # Saturday's early hours belong to Friday's shift, so the second business day is the next Friday.
    assert Promise(2, "day", True, "").deadline(berlin(2026, 12, 7, 10), clock) == berlin(2026, 12, 19, 6)


def test_never_open_company_has_no_business_deadline() -> None:
    clock = BusinessClock(BusinessHours(weekdays=[], holidays=False), "Europe/Berlin")
    assert Promise(1, "day", True, "").deadline(berlin(2026, 12, 7, 10), clock) is None
    assert Promise(1, "hour", True, "").deadline(berlin(2026, 12, 7, 10), clock) is None


def test_extracted_promise_end_to_end() -> None:
    promise = extract_promise("Danke! Wir melden uns innerhalb von 2 Werktagen bei Ihnen.")
    assert promise is not None
    assert promise.deadline(berlin(2026, 12, 7, 10), office()) == berlin(2026, 12, 9, 17)


# --------------------------------------------------------------------------------------------- properties

FRAGMENTS = st.sampled_from(
    [
        "We will reply within ",
        "Wir melden uns innerhalb von ",
        "Nous répondrons sous ",
        "entro ",
        "binnen ",
        "inom ",
        "24",
        "1-2",
        "two",
        "zwei",
        " hours",
        " business days",
        " Werktagen",
        " jours ouvrés",
        "h",
        " or two",
        ". ",
        "\n\n",
        "delivery ",
        "Response time: ",
        "the next business day",
        "d'ici ",
        "0",
        "9999",
        "1,5",
    ]
)
TEXTS = st.one_of(st.text(max_size=300), st.lists(FRAGMENTS, max_size=12).map("".join))


@SETTINGS
@given(TEXTS)
def test_extract_never_raises_and_is_deterministic(text: str) -> None:
    first = extract_promise(text)
    assert extract_promise(text) == first
    if first is not None:
        assert first.count > 0
        assert first.unit in ("minute", "hour", "day", "week")
        assert len(first.phrase) <= 120 and "\n" not in first.phrase


PROMISES = st.builds(
    Promise,
    count=st.floats(min_value=0.01, max_value=60, allow_nan=False),
    unit=st.sampled_from(["minute", "hour", "day", "week"]),
    business=st.booleans(),
    phrase=st.just(""),
)
STARTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.sampled_from([UTC, BERLIN])
)
CLOCK = office()


@SETTINGS
@given(PROMISES, STARTS)
def test_deadline_is_never_before_start(promise: Promise, start: datetime) -> None:
    due = promise.deadline(start, CLOCK)
    assert due is not None
    assert due >= start
    if promise.business and promise.unit in ("day", "week"):
        assert not CLOCK.is_open(due) or due.astimezone(BERLIN).hour == 17


@given(
    count=st.sampled_from([0.5, 1.0, 2.0, 24.0, 48.0]),
    unit=st.sampled_from(["minute", "hour", "day", "week"]),
    business=st.booleans(),
    phrase=st.text(min_size=1, max_size=40).filter(str.strip),
)
def test_a_promise_survives_the_round_trip_through_message_detail(
    count: float, unit: str, business: bool, phrase: str
) -> None:
    promise = Promise(count, unit, business, phrase)  # type: ignore[arg-type]
    detail = promise.to_detail()
    assert all(isinstance(v, str) for v in detail.values())
    assert Promise.from_detail(detail) == promise


def test_detail_without_a_usable_promise_gives_none() -> None:
    assert Promise.from_detail({}) is None
    assert Promise.from_detail({"promise": "x", "promise_unit": "fortnight", "promise_count": "2"}) is None
    assert Promise.from_detail({"promise": "x", "promise_unit": "day", "promise_count": "zero"}) is None
    assert Promise.from_detail({"promise": "x", "promise_unit": "day", "promise_count": "0"}) is None


def test_describe_says_the_promise_in_plain_words() -> None:
    assert Promise(2, "day", True, "p").describe() == "2 business days"
    assert Promise(24, "hour", False, "p").describe() == "24 hours"
    assert Promise(1, "day", True, "p").describe() == "1 business day"
    assert Promise(0.5, "hour", False, "p").describe() == "0.5 hour"
