"""Presets, overrides and reply plans of the simulated help desks (no network)."""

from __future__ import annotations

import math
import random
import statistics
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from replybench.models import SandboxBehaviour
from replybench.sandbox import PRESETS, plan_replies, resolve_behaviour
from replybench.sandbox.behaviour import BOUNCE_DELAY, FOLLOWUP_FACTOR, PERSON_KINDS

PROFILES = sorted(PRESETS)

overrides = st.fixed_dictionaries(
    {},
    optional={
        "ack": st.booleans(),
        "ack_delay": st.floats(0, 100, allow_nan=False),
        "human_probability": st.floats(0, 1),
        "human_median": st.floats(0, 10_000, allow_nan=False),
        "human_sigma": st.floats(0, 5),
        "business_hours_only": st.booleans(),
        "bounce": st.booleans(),
        "out_of_office": st.booleans(),
        "human_style": st.sampled_from(["answer", "holding", "deflect"]),
        "promise": st.sampled_from(["within 24 hours", "within 3 business days", "as soon as possible"]),
    },
)


@given(profile=st.sampled_from(PROFILES), given_fields=overrides)
def test_each_given_field_overrides_the_preset_and_the_rest_comes_from_it(profile, given_fields):
    spec_fields = {
        k: timedelta(seconds=v) if k in ("ack_delay", "human_median") else v for k, v in given_fields.items()
    }
    resolved = resolve_behaviour(SandboxBehaviour(profile=profile, **spec_fields))
    preset = PRESETS[profile]
    assert resolved.profile == profile
    for name in ("ack", "ack_delay", "human_probability", "human_median", "human_sigma"):
        expected = given_fields.get(name, getattr(preset, name))
        assert getattr(resolved, name) == pytest.approx(expected, abs=1e-6), name
    for name in ("business_hours_only", "bounce", "out_of_office", "human_style", "promise"):
        assert getattr(resolved, name) == given_fields.get(name, getattr(preset, name)), name


def test_no_sandbox_table_means_the_fast_preset():
    assert resolve_behaviour(None) == PRESETS["fast"]


def test_durations_in_the_workspace_syntax_are_seconds():
    resolved = resolve_behaviour(SandboxBehaviour.model_validate({"profile": "slow", "human_median": "2m"}))
    assert resolved.human_median == 120.0
    assert resolved.human_sigma == 1.0


def test_presets_match_the_documented_table():
    fast, slow = PRESETS["fast"], PRESETS["slow"]
    assert (fast.ack, fast.ack_delay, fast.human_median, fast.human_sigma, fast.human_probability) == (
        True,
        0.3,
        3.0,
        0.6,
        1.0,
    )
    assert (slow.ack, slow.human_median, slow.human_sigma, slow.human_probability) == (True, 15.0, 1.0, 0.8)
    assert PRESETS["ack_only"].ack
    assert PRESETS["ack_only"].human_probability == 0
    assert PRESETS["business_hours"].business_hours_only
    assert PRESETS["business_hours"].ack
    assert PRESETS["bounce"].bounce
    assert not PRESETS["never"].ack
    assert PRESETS["never"].human_probability == 0
    ooo = PRESETS["out_of_office"]
    assert ooo.out_of_office
    assert ooo.human_median == 8.0
    assert ooo.human_probability == 1


@pytest.mark.parametrize(
    ("profile", "kinds"),
    [
        ("fast", ["ack", "human"]),
        ("ack_only", ["ack"]),
        ("business_hours", ["ack", "human"]),
        ("bounce", ["bounce"]),
        ("never", []),
        ("out_of_office", ["ooo", "human"]),
    ],
)
def test_each_profile_plans_its_kinds_of_reply(profile, kinds):
    for seed in range(20):
        plan = plan_replies(PRESETS[profile], random.Random(seed))
        assert [p.kind for p in plan] == kinds
        delays = [p.delay for p in plan]
        assert delays == sorted(delays)
        assert all(d > 0 for d in delays)
    business = [p.business_time for p in plan_replies(PRESETS["business_hours"], random.Random(0))]
    assert business == [False, True]


def test_human_delays_are_log_normal_with_the_preset_median_and_sigma():
    rng = random.Random(7)
    for profile, median, sigma in (("fast", 3.0, 0.6), ("out_of_office", 8.0, 0.6)):
        samples = [
            next(p.delay for p in plan_replies(PRESETS[profile], rng) if p.kind == "human")
            for _ in range(3000)
        ]
        logs = [math.log(s) for s in samples]
        assert statistics.median(samples) == pytest.approx(median, rel=0.08)
        assert statistics.stdev(logs) == pytest.approx(sigma, rel=0.08)


def test_slow_answers_about_four_in_five_probes():
    rng = random.Random(3)
    answered = sum(any(p.kind == "human" for p in plan_replies(PRESETS["slow"], rng)) for _ in range(4000))
    assert answered / 4000 == pytest.approx(0.8, abs=0.03)


def test_automatic_messages_come_after_about_the_ack_delay_and_a_bounce_quickly():
    for seed in range(50):
        ack = plan_replies(PRESETS["fast"], random.Random(seed))[0]
        assert ack.kind == "ack"
        assert 0.24 <= ack.delay <= 0.36
        bounce = plan_replies(PRESETS["bounce"], random.Random(seed))[0]
        assert BOUNCE_DELAY * 0.8 <= bounce.delay <= BOUNCE_DELAY * 1.2


@given(seed=st.integers(0, 2**32), scale=st.floats(0.5, 10_000))
def test_time_scale_divides_every_delay(seed, scale):
    for profile in PROFILES:
        plain = plan_replies(PRESETS[profile], random.Random(seed))
        scaled = plan_replies(PRESETS[profile], random.Random(seed), time_scale=scale)
        assert [p.kind for p in plain] == [p.kind for p in scaled]
        for a, b in zip(plain, scaled, strict=True):
            assert b.delay == pytest.approx(a.delay / scale, rel=1e-9)


@given(seed=st.integers(0, 2**32), probability=st.floats(0, 1))
def test_changing_one_field_does_not_shift_the_other_samples(seed, probability):
    base = plan_replies(PRESETS["fast"], random.Random(seed))
    spec = resolve_behaviour(SandboxBehaviour(profile="fast", human_probability=probability))
    changed = plan_replies(spec, random.Random(seed))
    assert changed[0] == base[0]  # the acknowledgement
    if len(changed) == 2:
        assert changed[1] == base[1]


def test_a_person_never_answers_before_the_automatic_messages():
    spec = resolve_behaviour(SandboxBehaviour(profile="out_of_office", ack=True, human_median=timedelta(0)))
    for seed in range(30):
        plan = plan_replies(spec, random.Random(seed))
        assert [p.kind for p in plan] == ["ack", "ooo", "human"]
        assert plan[2].delay >= plan[1].delay > plan[0].delay


@pytest.mark.parametrize("scale", [0, -1, float("inf"), float("nan")])
def test_time_scale_must_be_positive_and_finite(scale):
    with pytest.raises(ValueError, match="time_scale"):
        plan_replies(PRESETS["fast"], random.Random(0), time_scale=scale)


# ------------------------------------------------------------------------------------- how a person answers


def test_every_preset_answers_and_leaves_the_promise_to_the_help_desk():
    for preset in PRESETS.values():
        assert preset.human_style == "answer"
        assert preset.promise is None
    assert {"human", "holding", "followup", "deflection"} == PERSON_KINDS


@pytest.mark.parametrize(
    ("style", "kinds"),
    [
        ("answer", ["ack", "human"]),
        ("holding", ["ack", "holding", "followup"]),
        ("deflect", ["ack", "deflection"]),
    ],
)
def test_each_human_style_plans_its_kinds_of_reply(style, kinds):
    spec = resolve_behaviour(SandboxBehaviour(profile="fast", human_style=style))
    for seed in range(20):
        plan = plan_replies(spec, random.Random(seed))
        assert [p.kind for p in plan] == kinds
        delays = [p.delay for p in plan]
        assert delays == sorted(delays)


def test_a_person_who_never_answers_sends_no_holding_reply_or_deflection_either():
    for style in ("holding", "deflect"):
        spec = resolve_behaviour(SandboxBehaviour(profile="ack_only", human_style=style))
        assert [p.kind for p in plan_replies(spec, random.Random(1))] == ["ack"]
        spec = resolve_behaviour(SandboxBehaviour(profile="bounce", human_style=style))
        assert [p.kind for p in plan_replies(spec, random.Random(1))] == ["bounce"]


@given(seed=st.integers(0, 2**32), scale=st.floats(0.5, 1000))
def test_the_answer_follows_the_holding_reply_after_two_to_six_times_its_delay(seed, scale):
    spec = resolve_behaviour(SandboxBehaviour(profile="slow", human_style="holding", human_probability=1))
    ack, holding, followup = plan_replies(spec, random.Random(seed), time_scale=scale)
    low, high = FOLLOWUP_FACTOR
    assert followup.delay >= holding.delay + 0.1 / scale - 1e-9
    ratio = followup.delay / holding.delay
    assert ratio <= high + 1e-9
    assert ratio >= low - 1e-9 or followup.delay == pytest.approx(holding.delay + 0.1 / scale)
    assert ack.delay < holding.delay


@given(seed=st.integers(0, 2**32))
def test_the_human_style_shifts_no_sample(seed):
    """The holding reply and the deflection come exactly when the answer would have."""
    plans = {
        style: plan_replies(
            resolve_behaviour(SandboxBehaviour(profile="out_of_office", human_style=style)),
            random.Random(seed),
        )
        for style in ("answer", "holding", "deflect")
    }
    ooo, human = plans["answer"]
    for style, kind in (("holding", "holding"), ("deflect", "deflection")):
        plan = plans[style]
        assert plan[0] == ooo
        assert (plan[1].kind, plan[1].delay) == (kind, human.delay)


def test_the_follow_up_factor_is_drawn_after_every_older_variate():
    """The fixed draw order: three jitters, the answer draw, the human z, then the follow-up factor."""
    spec = resolve_behaviour(
        SandboxBehaviour(profile="fast", human_style="holding", human_median=timedelta(seconds=2))
    )
    for seed in range(10):
        replay = random.Random(seed)
        ack_jitter = replay.uniform(0.8, 1.2)
        for _ in range(2):
            replay.uniform(0.8, 1.2)
        replay.random()
        human = 2.0 * math.exp(0.6 * replay.gauss(0.0, 1.0))
        factor = replay.uniform(*FOLLOWUP_FACTOR)
        rng = random.Random(seed)
        ack, holding, followup = plan_replies(spec, rng)
        assert ack.delay == pytest.approx(0.3 * ack_jitter)
        assert holding.delay == pytest.approx(max(human, ack.delay + 0.1))
        assert followup.delay == pytest.approx(max(holding.delay * factor, holding.delay + 0.1))
        # the plan takes exactly six variates: what the help desk draws next is the same for every style
        assert rng.random() == replay.random()


def test_business_hours_apply_to_every_reply_a_person_writes():
    spec = resolve_behaviour(SandboxBehaviour(profile="business_hours", human_style="holding"))
    plan = plan_replies(spec, random.Random(0))
    assert [(p.kind, p.business_time) for p in plan] == [
        ("ack", False),
        ("holding", True),
        ("followup", True),
    ]
    spec = resolve_behaviour(SandboxBehaviour(profile="business_hours", human_style="deflect"))
    assert [(p.kind, p.business_time) for p in plan_replies(spec, random.Random(0))] == [
        ("ack", False),
        ("deflection", True),
    ]


@pytest.mark.parametrize(
    "bad",
    [
        {"human_style": "ignore"},
        {"promise": ""},
        {"promise": "within 2 days\nBcc: x@y"},
        {"promise": "x" * 201},
    ],
)
def test_invalid_human_styles_and_promises_are_refused(bad):
    with pytest.raises(ValidationError, match=r"human_style|promise"):
        SandboxBehaviour.model_validate({"profile": "fast", **bad})
