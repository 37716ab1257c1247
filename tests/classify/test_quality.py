"""Rubric scoring of human replies: point matching, the score formula, personalisation, properties."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replybench.classify.quality import QualityScore, persona_names, score_reply
from replybench.models import Persona, Rubric

SETTINGS = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def rubric(**fields: Any) -> Rubric:
    return Rubric.model_validate(fields)


def point(label: str, *phrases: str, regex: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"point": label, "phrases": list(phrases), "regex": list(regex)}


def scored(r: Rubric, text: str, names: tuple[str, ...] = ()) -> QualityScore:
    result = score_reply(r, text, names=names)
    assert result is not None
    return result


RUBRIC = rubric(
    required=[point("opening hours", "open until"), point("price", "costs", regex=(r"\d+ ?(?:EUR|€)",))],
    optional=[point("thanks", "thank you"), point("link", regex=(r"https?://",))],
    forbidden=[point("call us", "call us"), point("visit shop", "visit our shop")],
)


# --------------------------------------------------------------------------------------------- the formula


def test_everything_found_scores_100() -> None:
    result = scored(RUBRIC, "Thank you! We are open until 8 pm and it costs 20 EUR, see https://x.example")
    assert result.score == 100.0
    assert result.required == ("opening hours", "price")
    assert result.missing == ()
    assert result.optional == ("thanks", "link")
    assert result.forbidden == ()
    assert result.answered_all is True


def test_nothing_found_scores_0() -> None:
    result = scored(RUBRIC, "Hello.")
    assert result.score == 0.0
    assert result.required == ()
    assert result.missing == ("opening hours", "price")
    assert result.answered_all is False


def test_optional_points_weigh_one_fifth() -> None:
    # R = 1/2, O = 1/2: 100 * (0.8 * 0.5 + 0.2 * 0.5) = 50
    assert scored(RUBRIC, "We are open until 8. Thank you").score == 50.0
    # R = 1, O = 0: 80
    assert scored(RUBRIC, "We are open until 8, it costs 5 €").score == 80.0
    # R = 0, O = 1: 20
    assert scored(RUBRIC, "Thank you, https://x.example").score == 20.0
    # without optional points, required points are the whole score
    only_required = rubric(required=[point("a", "alpha"), point("b", "beta"), point("c", "gamma")])
    assert scored(only_required, "alpha and beta").score == 66.7


def test_forbidden_points_cost_25_each_and_the_score_is_clamped() -> None:
    text = "We are open until 8, it costs 5 €. Thank you, https://x.example"
    assert scored(RUBRIC, text + " Please call us.").score == 75.0
    both = scored(RUBRIC, text + " Please call us or visit our shop.")
    assert both.score == 50.0
    assert both.forbidden == ("call us", "visit shop")
    assert scored(RUBRIC, "Thank you. Call us or visit our shop.").score == 0.0  # 20 - 50 clamps at 0


def test_rubric_of_forbidden_points_only() -> None:
    r = rubric(forbidden=[point("call us", "call us")])
    clean = scored(r, "Here is your answer.")
    assert clean.score == 100.0
    assert clean.answered_all is None
    assert scored(r, "Just call us.").score == 75.0


def test_empty_rubric_gives_none() -> None:
    assert score_reply(Rubric(), "anything") is None
    assert score_reply(rubric(personal=True), "anything", names=("Anna",)) is None


# --------------------------------------------------------------------------------------------- matching


def test_regex_is_searched_as_written_and_phrases_ignore_case() -> None:
    r = rubric(required=[point("dec", regex=("24 Dec",)), point("phrase", "Open Until")])
    assert scored(r, "24 dec, OPEN UNTIL 8").required == ("phrase",)  # the regex is case-sensitive
    assert scored(r, "24 Dec, open until 8").required == ("dec", "phrase")


def test_short_form_regex_through_model_validate() -> None:
    r = Rubric.model_validate({"required": ["(?i)24(th)? dec"]})
    assert scored(r, "We deliver on the 24th December").required == ("(?i)24(th)? dec",)
    assert scored(r, "on 24 DEC").score == 100.0
    assert scored(r, "on 25 Dec").missing == ("(?i)24(th)? dec",)


def test_phrases_tolerate_whitespace_case_and_accents() -> None:
    r = rubric(required=[point("greeting", "Freundliche Grüße"), point("cv", "resume")])
    assert scored(r, "Mit FREUNDLICHE\n  grusse und Ihr RÉSUMÉ").score == 100.0
    r2 = rubric(required=[point("cv", "résumé")])
    assert scored(r2, "send your resume").score == 100.0
    r3 = rubric(required=[point("grusse", "Grusse")])
    assert scored(r3, "Viele Grüße").score == 100.0


def test_phrases_match_whole_words_only() -> None:
    r = rubric(forbidden=[point("call us", "call us")])
    assert scored(r, "We recall used cars.").forbidden == ()
    assert scored(r, "We recall us.").forbidden == ()
    assert scored(r, "Please call usually.").forbidden == ()
    assert scored(r, "Please (call us).").forbidden == ("call us",)
    assert scored(r, "Call\tus!").forbidden == ("call us",)


def test_phrase_with_punctuation_at_its_edges() -> None:
    r = rubric(required=[point("price", "€5"), point("q", "why?")])
    assert scored(r, "It is €5, why?").score == 100.0


def test_any_phrase_or_regex_finds_a_point() -> None:
    r = rubric(required=[point("ack", "received", "got it", regex=(r"\bnoted\b",))])
    for text in ("We received it", "GOT   IT", "noted"):
        assert scored(r, text).score == 100.0, text


def test_the_same_rubric_scores_the_same_twice() -> None:
    text = "We are open until 8, it costs 5 €"
    assert scored(RUBRIC, text) == scored(RUBRIC, text)
    copy = Rubric.model_validate(RUBRIC.model_dump())
    assert scored(copy, text) == scored(RUBRIC, text)


# --------------------------------------------------------------------------------------------- personalisation


def test_personalised_by_given_or_family_name() -> None:
    names = ("Anna", "Müller")
    assert scored(RUBRIC, "Dear Anna, hello", names).personalised is True
    assert scored(RUBRIC, "Dear Ms Mueller", names).personalised is False  # "ue" is not "ü"
    assert scored(RUBRIC, "Dear Ms MULLER", names).personalised is True  # accents and case ignored
    assert scored(RUBRIC, "Dear Ms. Müller,", names).personalised is True
    assert scored(RUBRIC, "Dear customer", names).personalised is False


def test_a_name_inside_another_word_does_not_count() -> None:
    assert scored(RUBRIC, "Hello Annabel", ("Anna",)).personalised is False
    assert scored(RUBRIC, "Hi Hanna", ("Anna",)).personalised is False
    assert scored(RUBRIC, "Hi Anna-Lena", ("Anna",)).personalised is True  # a hyphen separates words


def test_personalisation_is_beside_the_score() -> None:
    text = "We are open until 8, it costs 5 €"
    assert scored(RUBRIC, "Hi Anna. " + text, ("Anna",)).score == scored(RUBRIC, text, ("Anna",)).score


def test_personalised_is_none_when_not_asked_or_no_names() -> None:
    impersonal = rubric(required=[point("a", "alpha")], personal=False)
    assert scored(impersonal, "alpha Anna", ("Anna",)).personalised is None
    assert scored(RUBRIC, "Hi Anna", ()).personalised is None
    assert scored(RUBRIC, "Hi A", ("A", " ", "")).personalised is None  # names under 2 letters are ignored


def test_persona_names() -> None:
    anna = Persona(id="anna", display_name="Anna Müller")
    assert persona_names(anna) == ("Anna", "Müller")
    assert persona_names(Persona(id="x", display_name="Prince")) == ("Prince",)
    assert persona_names(Persona(id="x", display_name="J. Doe")) == ("Doe",)
    assert persona_names(Persona(id="x", display_name="Doe Doe", first_name="doe")) == ("doe",)
    assert persona_names(Persona(id="x", display_name="Kim Li", first_name="Kimberly")) == ("Kimberly", "Li")


def test_answered_all() -> None:
    assert scored(RUBRIC, "open until 8, costs 3 EUR").answered_all is True
    assert scored(RUBRIC, "open until 8").answered_all is False
    assert scored(rubric(optional=[point("t", "thanks")]), "thanks").answered_all is None


# --------------------------------------------------------------------------------------------- properties

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
FORBIDDEN = ["call us", "visit our shop"]
FILLER = st.lists(
    st.sampled_from(["hello", "the", "price", "and", ".", "\n", "Anna", "é", "x"]), max_size=12
).map(" ".join)


@st.composite
def rubrics(draw: st.DrawFn) -> Rubric:
    required = draw(st.lists(st.sampled_from(WORDS), unique=True, max_size=4))
    optional = draw(
        st.lists(st.sampled_from([w for w in WORDS if w not in required]), unique=True, max_size=2)
    )
    forbidden = draw(st.lists(st.sampled_from(FORBIDDEN), unique=True, max_size=2))
    return rubric(
        required=[point(w, w) for w in required],
        optional=[point(w, w) for w in optional],
        forbidden=[point(w, w) for w in forbidden],
        personal=draw(st.booleans()),
    )


@SETTINGS
@given(rubrics(), st.one_of(st.text(max_size=200), FILLER), st.lists(st.sampled_from(WORDS + FORBIDDEN)))
def test_score_is_within_bounds_and_deterministic(r: Rubric, text: str, extra: list[str]) -> None:
    full = text + " " + " ".join(extra)
    result = score_reply(r, full, names=("Anna",))
    if r.empty:
        assert result is None
        return
    assert result is not None
    assert 0.0 <= result.score <= 100.0
    assert result.score == round(result.score, 1)
    assert score_reply(r, full, names=("Anna",)) == result
    assert set(result.required) | set(result.missing) == {p.point for p in r.required}


@SETTINGS
@given(rubrics(), FILLER, st.sampled_from(WORDS))
def test_one_more_required_phrase_never_lowers_the_score(r: Rubric, text: str, word: str) -> None:
    before = score_reply(r, text)
    after = score_reply(r, text + " " + word)
    if before is None:
        assert after is None
        return
    assert after is not None
    assert after.score >= before.score
    if word in {p.point for p in r.required} and word not in before.required:
        assert after.score > before.score or after.score == 0.0
