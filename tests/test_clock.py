"""Tests of replybench.clock: concrete calendar cases (weekends, holidays, DST, overnight) and properties."""

from __future__ import annotations

import itertools
import time as stopwatch
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from replybench.clock import BusinessClock
from replybench.models import BusinessHours, Target

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600.0


def berlin(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, *, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=BERLIN, fold=fold)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=UTC)


def office(**kwargs: object) -> BusinessClock:
    """Berlin clock, German holidays, Mon-Fri 09:00-17:00 unless overridden."""
    country = kwargs.pop("country", "DE")
    kwargs.setdefault("weekdays", ["09:00-17:00"])
    return BusinessClock(BusinessHours(**kwargs), "Europe/Berlin", country)  # type: ignore[arg-type]


def sunday_only(spec: str, zone: str = "Europe/Berlin") -> BusinessClock:
    """A clock open only on Sundays, within ``spec`` (DST changes in the EU and US happen on Sundays)."""
    return BusinessClock(BusinessHours(weekdays=[], sun=[spec], holidays=False), zone)


# --------------------------------------------------------------------------------------------- weekdays


def test_full_weekday_is_eight_hours() -> None:
    clock = office()
    # Monday 2026-12-07, whole calendar day.
    assert clock.business_seconds(berlin(2026, 12, 7), berlin(2026, 12, 8)) == 8 * HOUR
    assert list(clock.open_intervals(berlin(2026, 12, 7), berlin(2026, 12, 8))) == [
        (utc(2026, 12, 7, 8), utc(2026, 12, 7, 16))
    ]


def test_is_open_includes_start_excludes_end() -> None:
    clock = office()
    assert not clock.is_open(berlin(2026, 12, 7, 8, 59, 59))
    assert clock.is_open(berlin(2026, 12, 7, 9))
    assert clock.is_open(berlin(2026, 12, 7, 17) - timedelta(microseconds=1))
    assert not clock.is_open(berlin(2026, 12, 7, 17))
    assert not clock.is_open(berlin(2026, 12, 5, 12))  # Saturday


def test_summer_time_shifts_utc_intervals() -> None:
    clock = office()
    # Monday 2026-07-06 is in CEST (UTC+2): 09:00 local is 07:00 UTC.
    assert list(clock.open_intervals(utc(2026, 7, 6), utc(2026, 7, 7))) == [
        (utc(2026, 7, 6, 7), utc(2026, 7, 6, 15))
    ]


def test_over_a_weekend() -> None:
    clock = office()
    # Friday 16:00 to Monday 10:00: one hour on Friday, one on Monday.
    assert clock.business_seconds(berlin(2026, 12, 4, 16), berlin(2026, 12, 7, 10)) == 2 * HOUR
    assert clock.next_open(berlin(2026, 12, 4, 17)) == utc(2026, 12, 7, 8)
    assert clock.add_business_time(berlin(2026, 12, 4, 16, 30), HOUR) == utc(2026, 12, 7, 8, 30)


def test_whole_week_and_year() -> None:
    clock = office()
    assert clock.business_seconds(berlin(2026, 12, 7), berlin(2026, 12, 14)) == 40 * HOUR
    # 2026: 261 weekdays, 9 national holidays of which 7 on weekdays (3 Oct and 26 Dec are Saturdays).
    assert clock.business_seconds(berlin(2026, 1, 1), berlin(2027, 1, 1)) == 254 * 8 * HOUR


def test_reversed_or_empty_span_is_zero() -> None:
    clock = office()
    assert clock.business_seconds(berlin(2026, 12, 8), berlin(2026, 12, 7)) == 0
    assert clock.business_seconds(berlin(2026, 12, 7, 10), berlin(2026, 12, 7, 10)) == 0
    assert list(clock.open_intervals(berlin(2026, 12, 8), berlin(2026, 12, 7))) == []


def test_results_are_utc() -> None:
    clock = office()
    at = berlin(2026, 12, 7, 10)
    assert clock.next_open(at) == at
    assert clock.next_open(at).tzinfo is UTC  # type: ignore[union-attr]
    assert clock.add_business_time(at, 0).tzinfo is UTC  # type: ignore[union-attr]
    for s, e in clock.open_intervals(at, at + timedelta(days=3)):
        assert s.tzinfo is UTC
        assert e.tzinfo is UTC


# --------------------------------------------------------------------------------------------- holidays


def test_german_christmas_is_closed() -> None:
    clock = office()
    assert clock.is_holiday(date(2026, 12, 25))
    assert clock.is_holiday(date(2026, 12, 26))
    assert not clock.is_holiday(date(2026, 12, 24))  # Christmas Eve is not a public holiday
    assert not clock.is_open(berlin(2026, 12, 25, 10))
    # Thursday 24th open, Friday 25th holiday, weekend, Monday 28th open.
    assert clock.business_seconds(berlin(2026, 12, 24), berlin(2026, 12, 29)) == 16 * HOUR
    assert clock.next_open(berlin(2026, 12, 24, 18)) == utc(2026, 12, 28, 8)
    assert clock.add_business_time(berlin(2026, 12, 24, 16), 2 * HOUR) == utc(2026, 12, 28, 9)


def test_holidays_off_or_no_country_keeps_the_day_open() -> None:
    span = (berlin(2026, 12, 24), berlin(2026, 12, 29))
    assert office(holidays=False).business_seconds(*span) == 24 * HOUR
    assert office(country=None).business_seconds(*span) == 24 * HOUR
    assert not office(country=None).is_holiday(date(2026, 12, 25))


def test_subdivision_holidays() -> None:
    # Epiphany (6 January) is a holiday in Bavaria but not in Berlin.
    epiphany = date(2026, 1, 6)
    assert office(subdivision="BY").is_holiday(epiphany)
    assert not office(subdivision="BE").is_holiday(epiphany)
    assert office(subdivision="BY").business_seconds(berlin(2026, 1, 6), berlin(2026, 1, 7)) == 0
    assert office(subdivision="BE").business_seconds(berlin(2026, 1, 6), berlin(2026, 1, 7)) == 8 * HOUR


def test_explicit_closures_apply_even_without_public_holidays() -> None:
    clock = office(holidays=False, closures=[date(2026, 12, 8)])
    assert clock.is_holiday(date(2026, 12, 8))
    assert not clock.is_holiday(date(2026, 12, 25))
    assert clock.business_seconds(berlin(2026, 12, 7), berlin(2026, 12, 10)) == 16 * HOUR


def test_is_holiday_takes_an_aware_datetime_at_its_local_date() -> None:
    clock = office()
    # 2026-12-24 23:30 UTC is already the 25th in Berlin.
    assert clock.is_holiday(utc(2026, 12, 24, 23, 30))
    assert not clock.is_holiday(utc(2026, 12, 24, 22, 30))


def test_holidays_are_cached_per_year() -> None:
    clock = office()
    clock.business_seconds(berlin(2025, 12, 1), berlin(2027, 2, 1))
    assert set(clock._holiday_years) == {2025, 2026, 2027}


def test_us_observed_holiday() -> None:
    # Independence Day 2026 is a Saturday; the holidays package observes it on Friday 3 July.
    clock = BusinessClock(BusinessHours(weekdays=["09:00-17:00"]), "America/New_York", "US")
    assert clock.is_holiday(date(2026, 7, 3))
    assert clock.business_seconds(utc(2026, 7, 3), utc(2026, 7, 4)) == 0


# --------------------------------------------------------------------------------------------- construction


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown IANA time zone 'Mars/Olympus'"),
        ({"country": "XX"}, "unknown country 'XX'"),
        ({"hours": BusinessHours(subdivision="by")}, "unknown holiday subdivision 'by' for country 'DE'"),
        ({"hours": BusinessHours(subdivision="BY"), "country": None}, "subdivision 'BY' is given but"),
    ],
)
def test_bad_configuration_raises_value_error(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"hours": BusinessHours(), "timezone": "Europe/Berlin", "country": "DE"}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        BusinessClock(**args)  # type: ignore[arg-type]


def test_subdivision_error_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="BY") as info:
        BusinessClock(BusinessHours(subdivision="Bavaria"), "Europe/Berlin", "DE")
    assert "BE" in str(info.value)


def test_unknown_country_is_accepted_when_holidays_are_off() -> None:
    clock = BusinessClock(BusinessHours(weekdays=["09:00-17:00"], holidays=False), "Europe/Berlin", "XX")
    assert clock.business_seconds(berlin(2026, 12, 25), berlin(2026, 12, 26)) == 8 * HOUR


def test_for_target() -> None:
    target = Target(
        id="acme",
        name="Acme",
        country="DE",
        timezone="Europe/Berlin",
        hours=BusinessHours(weekdays=["08:00-12:00"], subdivision="BY"),
    )
    clock = BusinessClock.for_target(target)
    assert clock.is_holiday(date(2026, 1, 6))
    assert clock.business_seconds(berlin(2026, 12, 7), berlin(2026, 12, 8)) == 4 * HOUR


def test_default_target_is_utc_weekdays_nine_to_five() -> None:
    clock = BusinessClock.for_target(Target(id="t", name="T"))
    assert list(clock.open_intervals(utc(2026, 12, 7), utc(2026, 12, 8))) == [
        (utc(2026, 12, 7, 9), utc(2026, 12, 7, 17))
    ]


def test_naive_datetimes_are_rejected() -> None:
    clock = office()
    naive = datetime(2026, 12, 7, 10)
    aware = berlin(2026, 12, 7, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.is_open(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.business_seconds(naive, aware)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.open_intervals(aware, naive)  # raises at the call, not at first iteration
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.next_open(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.add_business_time(naive, 1.0)


# --------------------------------------------------------------------------------------------- DST


def test_spring_forward_interval_covering_the_gap_loses_an_hour() -> None:
    # Berlin, Sunday 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
    clock = sunday_only("01:00-04:00")
    day = (utc(2026, 3, 28, 12), utc(2026, 3, 29, 12))
    assert list(clock.open_intervals(*day)) == [(utc(2026, 3, 29, 0), utc(2026, 3, 29, 2))]
    assert clock.business_seconds(*day) == 2 * HOUR


def test_spring_forward_missing_start_opens_after_the_gap() -> None:
    clock = sunday_only("02:30-05:00")
    # 02:30 does not exist; the interval starts at 03:00 CEST = 01:00 UTC and ends 05:00 CEST = 03:00 UTC.
    assert list(clock.open_intervals(utc(2026, 3, 28), utc(2026, 3, 30))) == [
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 3))
    ]
    assert clock.next_open(utc(2026, 3, 28, 12)) == utc(2026, 3, 29, 1)


def test_spring_forward_interval_inside_the_gap_is_empty() -> None:
    clock = sunday_only("02:00-02:30")
    assert list(clock.open_intervals(utc(2026, 3, 28), utc(2026, 3, 30))) == []
    assert clock.business_seconds(utc(2026, 3, 28), utc(2026, 3, 30)) == 0
    # The following Sunday it exists again.
    assert clock.business_seconds(utc(2026, 4, 4), utc(2026, 4, 6)) == 0.5 * HOUR


def test_spring_forward_missing_end_closes_at_the_gap() -> None:
    clock = sunday_only("01:00-02:30")
    assert list(clock.open_intervals(utc(2026, 3, 28), utc(2026, 3, 30))) == [
        (utc(2026, 3, 29, 0), utc(2026, 3, 29, 1))
    ]


def test_fall_back_interval_covering_the_repeated_hour_gains_an_hour() -> None:
    # Berlin, Sunday 2026-10-25: 03:00 CEST (01:00 UTC) goes back to 02:00 CET; 02:00-03:00 happens twice.
    clock = sunday_only("01:00-04:00")
    day = (utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))
    assert list(clock.open_intervals(*day)) == [(utc(2026, 10, 24, 23), utc(2026, 10, 25, 3))]
    assert clock.business_seconds(*day) == 4 * HOUR


def test_fall_back_ambiguous_start_uses_first_occurrence() -> None:
    clock = sunday_only("02:30-05:00")
    # 02:30 CEST (00:30 UTC) to 05:00 CET (04:00 UTC).
    assert list(clock.open_intervals(utc(2026, 10, 24), utc(2026, 10, 26))) == [
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 4))
    ]
    assert clock.is_open(berlin(2026, 10, 25, 2, 30, fold=0))
    assert clock.is_open(berlin(2026, 10, 25, 2, 15, fold=1))
    assert not clock.is_open(berlin(2026, 10, 25, 2, 15, fold=0))


def test_fall_back_ambiguous_end_uses_second_occurrence() -> None:
    clock = sunday_only("00:00-02:30")
    # 00:00 CEST (22:00 UTC on Saturday) to 02:30 CET (01:30 UTC).
    assert list(clock.open_intervals(utc(2026, 10, 24), utc(2026, 10, 26))) == [
        (utc(2026, 10, 24, 22), utc(2026, 10, 25, 1, 30))
    ]
    assert clock.is_open(berlin(2026, 10, 25, 2, 45, fold=0))
    assert not clock.is_open(berlin(2026, 10, 25, 2, 45, fold=1))


def test_fall_back_interval_inside_the_repeated_hour_includes_the_repetition() -> None:
    clock = sunday_only("02:00-02:30")
    assert clock.business_seconds(utc(2026, 10, 24), utc(2026, 10, 26)) == 1.5 * HOUR


def test_dst_in_new_york() -> None:
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT; 2026-11-01: 02:00 EDT back to 01:00 EST.
    spring = sunday_only("00:00-04:00", "America/New_York")
    assert spring.business_seconds(utc(2026, 3, 7), utc(2026, 3, 9)) == 3 * HOUR
    fall = sunday_only("00:00-04:00", "America/New_York")
    assert fall.business_seconds(utc(2026, 10, 31), utc(2026, 11, 2)) == 5 * HOUR


def test_dst_in_london() -> None:
    # 2026-03-29: 01:00 GMT jumps to 02:00 BST; 2026-10-25: 02:00 BST back to 01:00 GMT.
    clock = sunday_only("00:00-04:00", "Europe/London")
    assert list(clock.open_intervals(utc(2026, 3, 28), utc(2026, 3, 30))) == [
        (utc(2026, 3, 29, 0), utc(2026, 3, 29, 3))
    ]
    assert list(clock.open_intervals(utc(2026, 10, 24), utc(2026, 10, 26))) == [
        (utc(2026, 10, 24, 23), utc(2026, 10, 25, 4))
    ]


def test_dst_in_sydney_southern_hemisphere() -> None:
    # 2026-04-05: 03:00 AEDT back to 02:00 AEST (autumn); 2026-10-04: 02:00 AEST jumps to 03:00 AEDT (spring).
    clock = sunday_only("00:00-04:00", "Australia/Sydney")
    assert list(clock.open_intervals(utc(2026, 4, 4), utc(2026, 4, 6))) == [
        (utc(2026, 4, 4, 13), utc(2026, 4, 4, 18))
    ]
    assert list(clock.open_intervals(utc(2026, 10, 3), utc(2026, 10, 5))) == [
        (utc(2026, 10, 3, 14), utc(2026, 10, 3, 17))
    ]
    office_hours = BusinessClock(BusinessHours(weekdays=["09:00-17:00"]), "Australia/Sydney", "AU")
    # after each change, 09:00 local is 23:00 UTC (AEST, +10) or 22:00 UTC (AEDT, +11) the day before;
    # Monday 2026-04-06 is Easter Monday, a public holiday in Australia, so April opens on Tuesday
    assert office_hours.next_open(utc(2026, 4, 5, 12)) == utc(2026, 4, 6, 23)
    assert office_hours.next_open(utc(2026, 10, 4, 12)) == utc(2026, 10, 4, 22)


def test_weekday_hours_are_unaffected_by_the_change_on_sunday() -> None:
    clock = office()
    # Monday after spring-forward (CEST) and after fall-back (CET).
    assert list(clock.open_intervals(utc(2026, 3, 30), utc(2026, 3, 31))) == [
        (utc(2026, 3, 30, 7), utc(2026, 3, 30, 15))
    ]
    assert list(clock.open_intervals(utc(2026, 10, 26), utc(2026, 10, 27))) == [
        (utc(2026, 10, 26, 8), utc(2026, 10, 26, 16))
    ]


# --------------------------------------------------------------------------------------------- shapes


def test_overnight_interval_runs_into_the_next_day() -> None:
    clock = BusinessClock(BusinessHours(weekdays=[], fri=["22:00-06:00"], holidays=False), "Europe/Berlin")
    # Friday 2026-12-04 22:00 CET to Saturday 06:00 CET.
    week = (berlin(2026, 11, 30), berlin(2026, 12, 7))
    assert list(clock.open_intervals(*week)) == [(utc(2026, 12, 4, 21), utc(2026, 12, 5, 5))]
    assert clock.business_seconds(*week) == 8 * HOUR
    assert clock.is_open(berlin(2026, 12, 5, 5, 59))
    assert not clock.is_open(berlin(2026, 12, 5, 6))
    assert not clock.is_open(berlin(2026, 12, 4, 5))  # Friday morning: Thursday has no interval
    assert clock.add_business_time(berlin(2026, 12, 1), 7 * HOUR) == utc(2026, 12, 5, 4)


def test_holiday_closes_intervals_that_start_on_it() -> None:
    def closed_on(day: date) -> BusinessClock:
        hours = BusinessHours(weekdays=[], fri=["22:00-06:00"], holidays=False, closures=[day])
        return BusinessClock(hours, "Europe/Berlin")

    on_friday, on_saturday = closed_on(date(2026, 12, 4)), closed_on(date(2026, 12, 5))
    week = (berlin(2026, 11, 30), berlin(2026, 12, 7))
    assert on_friday.business_seconds(*week) == 0
    assert on_saturday.business_seconds(*week) == 8 * HOUR


def test_overnight_interval_across_fall_back() -> None:
    clock = BusinessClock(BusinessHours(weekdays=[], sat=["22:00-06:00"], holidays=False), "Europe/Berlin")
    # Saturday 2026-10-24 22:00 CEST (20:00 UTC) to Sunday 06:00 CET (05:00 UTC): 9 real hours.
    assert list(clock.open_intervals(utc(2026, 10, 24), utc(2026, 10, 26))) == [
        (utc(2026, 10, 24, 20), utc(2026, 10, 25, 5))
    ]


def test_lunch_break() -> None:
    clock = office(weekdays=["09:00-12:00", "13:00-17:00"])
    day = (berlin(2026, 12, 7), berlin(2026, 12, 8))
    assert list(clock.open_intervals(*day)) == [
        (utc(2026, 12, 7, 8), utc(2026, 12, 7, 11)),
        (utc(2026, 12, 7, 12), utc(2026, 12, 7, 16)),
    ]
    assert clock.business_seconds(*day) == 7 * HOUR
    assert not clock.is_open(berlin(2026, 12, 7, 12, 30))
    assert clock.next_open(berlin(2026, 12, 7, 12, 30)) == utc(2026, 12, 7, 12)
    assert clock.add_business_time(berlin(2026, 12, 7, 11), 2 * HOUR) == utc(2026, 12, 7, 13)
    # Used up exactly at noon: the answer is the closing time, not the reopening.
    assert clock.add_business_time(berlin(2026, 12, 7, 11), HOUR) == utc(2026, 12, 7, 11)


def test_twenty_four_hour_day() -> None:
    clock = BusinessClock(BusinessHours(weekdays=[], sat=["00:00-24:00"], holidays=False), "Europe/Berlin")
    week = (berlin(2026, 11, 30), berlin(2026, 12, 7))
    assert list(clock.open_intervals(*week)) == [(utc(2026, 12, 4, 23), utc(2026, 12, 5, 23))]
    assert clock.business_seconds(*week) == 24 * HOUR
    # On the spring-forward Sunday a 24-hour day lasts 23 hours.
    assert sunday_only("00:00-24:00").business_seconds(utc(2026, 3, 28), utc(2026, 3, 30)) == 23 * HOUR
    assert sunday_only("00:00-24:00").business_seconds(utc(2026, 10, 24), utc(2026, 10, 26)) == 25 * HOUR


def test_consecutive_and_overlapping_intervals_are_merged() -> None:
    always = BusinessClock(
        BusinessHours(weekdays=["00:00-24:00"], sat=["00:00-24:00"], sun=["00:00-24:00"], holidays=False),
        "Europe/Berlin",
    )
    year = (utc(2026, 1, 1), utc(2027, 1, 1))
    assert list(always.open_intervals(*year)) == [year]
    assert always.business_seconds(*year) == 365 * 24 * HOUR
    overlapping = office(weekdays=["09:00-12:00", "11:00-13:00", "13:00-14:00", "10:00-10:30"])
    assert list(overlapping.open_intervals(berlin(2026, 12, 7), berlin(2026, 12, 8))) == [
        (utc(2026, 12, 7, 8), utc(2026, 12, 7, 13))
    ]


def test_interval_until_midnight() -> None:
    clock = office(weekdays=["18:00-24:00"])
    assert list(clock.open_intervals(berlin(2026, 12, 7), berlin(2026, 12, 9))) == [
        (utc(2026, 12, 7, 17), utc(2026, 12, 7, 23)),
        (utc(2026, 12, 8, 17), utc(2026, 12, 8, 23)),
    ]


def test_clipping_to_the_span() -> None:
    clock = office()
    assert list(clock.open_intervals(berlin(2026, 12, 7, 10), berlin(2026, 12, 8, 11))) == [
        (utc(2026, 12, 7, 9), utc(2026, 12, 7, 16)),
        (utc(2026, 12, 8, 8), utc(2026, 12, 8, 10)),
    ]


# ----------------------------------------------------------------------------------------- next_open / add


def test_next_open_horizon() -> None:
    clock = office()
    friday_evening = berlin(2026, 12, 4, 18)
    assert clock.next_open(friday_evening, horizon_days=1) is None
    assert clock.next_open(friday_evening, horizon_days=3) == utc(2026, 12, 7, 8)
    assert clock.next_open(berlin(2026, 12, 7, 9), horizon_days=0) == utc(2026, 12, 7, 8)
    with pytest.raises(ValueError, match="horizon_days"):
        clock.next_open(friday_evening, horizon_days=-1)


def test_never_open() -> None:
    clock = BusinessClock(BusinessHours(weekdays=[]), "Europe/Berlin", "DE")
    assert clock.next_open(utc(2026, 1, 1)) is None
    assert clock.add_business_time(utc(2026, 1, 1), 1.0) is None
    assert clock.business_seconds(utc(2026, 1, 1), utc(2030, 1, 1)) == 0
    assert not clock.is_open(utc(2026, 1, 1, 12))


def test_add_business_time_edges() -> None:
    clock = office()
    saturday = berlin(2026, 12, 5, 12)
    assert clock.add_business_time(saturday, 0) == saturday  # zero elapses at once, even when closed
    assert clock.add_business_time(saturday, 0.25) == utc(2026, 12, 7, 8, 0, 0, 250000)
    # 30 business days of 8 hours: six weeks later (no holidays in early 2026 February/March).
    assert clock.add_business_time(berlin(2026, 2, 2, 9), 30 * 8 * HOUR) == utc(2026, 3, 13, 16)
    assert clock.add_business_time(saturday, 10 * 8 * HOUR, horizon_days=7) is None
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="seconds"):
            clock.add_business_time(saturday, bad)


def test_a_year_is_fast() -> None:
    clock = office(weekdays=["09:00-12:00", "13:00-17:00"], sat=["10:00-14:00"])
    begin = stopwatch.perf_counter()
    total = clock.business_seconds(utc(2026, 1, 1), utc(2027, 1, 1))
    elapsed = stopwatch.perf_counter() - begin
    assert total > 0
    assert elapsed < 0.25, f"a year took {elapsed:.3f} s"
    begin = stopwatch.perf_counter()
    clock.business_seconds(utc(2026, 1, 1), utc(2027, 1, 1))
    assert stopwatch.perf_counter() - begin < 0.05  # days are cached


# --------------------------------------------------------------------------------------------- properties

CLOCKS = [
    office(),
    office(weekdays=["09:00-12:00", "13:00-17:00"], sat=["10:00-14:00"], subdivision="BY"),
    BusinessClock(
        BusinessHours(weekdays=["08:00-20:00"], fri=["22:00-06:00"], sun=["00:00-24:00"], subdivision="CA"),
        "America/New_York",
        "US",
    ),
    BusinessClock(
        BusinessHours(weekdays=["01:30-03:30", "02:00-02:45", "23:30-02:15"], sat=["02:00-02:30"]),
        "Europe/London",
        "GB",
    ),
    BusinessClock(BusinessHours(weekdays=["00:00-24:00"], sat=["00:00-01:00"]), "Australia/Lord_Howe", "AU"),
    BusinessClock(BusinessHours(weekdays=["09:30-18:00"], sun=["23:00-23:30"]), "Asia/Kolkata", "IN"),
    BusinessClock(BusinessHours(weekdays=["00:00-00:30", "23:45-00:15"], holidays=False), "America/Santiago"),
    BusinessClock(
        BusinessHours(weekdays=["09:00-17:00"], sat=["09:00-17:00"], holidays=False), "Pacific/Apia"
    ),
]
clocks = st.sampled_from(CLOCKS)

OFFSETS = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(min_value=-14 * 60, max_value=14 * 60)
)
ZONES = st.sampled_from([ZoneInfo(z) for z in ("Europe/Berlin", "America/New_York", "Asia/Tokyo")])


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """An aware instant in 2008-2034 (Samoa skipped 2011-12-30), sometimes on a quarter hour."""
    at = draw(
        st.datetimes(min_value=datetime(2008, 1, 1), max_value=datetime(2034, 6, 30), timezones=st.just(UTC))
    )
    if draw(st.booleans()):
        at = at.replace(microsecond=0, second=0, minute=draw(st.sampled_from([0, 15, 30, 45])))
    return at.astimezone(draw(st.one_of(OFFSETS, ZONES)))


spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))

PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(clock=clocks, start=instants(), length=spans)
def test_business_time_is_at_most_calendar_time(
    clock: BusinessClock, start: datetime, length: timedelta
) -> None:
    business = clock.business_seconds(start, start + length)
    assert 0 <= business <= length.total_seconds()
    assert clock.business_seconds(start + length, start) == 0


@PROPERTY
@given(clock=clocks, start=instants(), first=spans, second=spans)
def test_business_time_is_additive(
    clock: BusinessClock, start: datetime, first: timedelta, second: timedelta
) -> None:
    middle, end = start + first, start + first + second
    whole = clock.business_seconds(start, end)
    parts = clock.business_seconds(start, middle) + clock.business_seconds(middle, end)
    assert whole == pytest.approx(parts, abs=1e-6)


@PROPERTY
@given(clock=clocks, at=instants())
def test_zero_when_the_whole_span_is_closed(clock: BusinessClock, at: datetime) -> None:
    assume(not clock.is_open(at))
    opening = clock.next_open(at, horizon_days=30)
    end = opening if opening is not None else at + timedelta(days=30)
    assert end > at
    assert clock.business_seconds(at, end) == 0
    assert list(clock.open_intervals(at, end)) == []


@PROPERTY
@given(
    clock=clocks,
    start=instants(),
    length=spans,
    zone_a=st.one_of(OFFSETS, ZONES),
    zone_b=st.one_of(OFFSETS, ZONES),
)
def test_invariant_to_the_offset_of_the_inputs(
    clock: BusinessClock, start: datetime, length: timedelta, zone_a: timezone, zone_b: timezone
) -> None:
    end = start + length
    reference = clock.business_seconds(start.astimezone(UTC), end.astimezone(UTC))
    assert clock.business_seconds(start.astimezone(zone_a), end.astimezone(zone_b)) == reference
    assert list(clock.open_intervals(start.astimezone(zone_a), end.astimezone(zone_b))) == list(
        clock.open_intervals(start.astimezone(UTC), end.astimezone(UTC))
    )
    assert clock.is_open(start.astimezone(zone_a)) == clock.is_open(start.astimezone(UTC))
    assert clock.next_open(start.astimezone(zone_a), horizon_days=30) == clock.next_open(
        start, horizon_days=30
    )


@PROPERTY
@given(clock=clocks, at=instants())
def test_is_open_agrees_with_open_intervals(clock: BusinessClock, at: datetime) -> None:
    lo, hi = at - timedelta(days=3), at + timedelta(days=3)
    around = list(clock.open_intervals(lo, hi))
    assert clock.is_open(at) == any(s <= at < e for s, e in around)
    assert clock.is_open(at) == bool(list(clock.open_intervals(at, at + timedelta(microseconds=1))))
    for s, e in around:
        assert clock.is_open(s)
        assert clock.is_open(e - timedelta(microseconds=1))
        if e < hi:
            assert not clock.is_open(e)  # merged: a real closing instant is never open


@PROPERTY
@given(clock=clocks, start=instants(), length=spans)
def test_open_intervals_are_ordered_disjoint_and_clipped(
    clock: BusinessClock, start: datetime, length: timedelta
) -> None:
    end = start + length
    intervals = list(clock.open_intervals(start, end))
    for s, e in intervals:
        assert start <= s < e <= end
        assert s.tzinfo is UTC
        assert e.tzinfo is UTC
    for (_, e1), (s2, _) in itertools.pairwise(intervals):
        assert e1 < s2
    total = sum(((e - s) for s, e in intervals), timedelta(0))
    assert clock.business_seconds(start, end) == total.total_seconds()


@PROPERTY
@given(clock=clocks, start=instants(), amount=st.floats(min_value=0, max_value=20 * 86400, allow_nan=False))
def test_add_business_time_inverts_business_seconds(
    clock: BusinessClock, start: datetime, amount: float
) -> None:
    done = clock.add_business_time(start, amount, horizon_days=120)
    assume(done is not None)
    assert done is not None
    assert done >= start
    assert clock.business_seconds(start, done) == pytest.approx(amount, abs=1e-6)
    if done > start:
        # It is the first such instant: one microsecond earlier, less has elapsed.
        assert clock.business_seconds(start, done - timedelta(microseconds=1)) < amount


@PROPERTY
@given(clock=clocks, start=instants(), length=spans)
def test_business_seconds_then_add_returns_to_the_last_business_instant(
    clock: BusinessClock, start: datetime, length: timedelta
) -> None:
    end = start + length
    amount = clock.business_seconds(start, end)
    done = clock.add_business_time(start, amount, horizon_days=41)
    assert done is not None
    assert start <= done <= end
    assert clock.business_seconds(done, end) == 0


@PROPERTY
@given(clock=clocks, at=instants())
def test_next_open_is_open(clock: BusinessClock, at: datetime) -> None:
    opening = clock.next_open(at)
    assert opening is not None  # every test clock opens at least weekly
    assert opening >= at
    assert clock.is_open(opening)
    assert clock.business_seconds(at, opening) == 0
    assert (opening == at) == clock.is_open(at)


# An oracle written independently of the implementation, for a zone without DST: walk minute by minute and
# ask whether a local wall-clock time lies in an interval that started on its day or the day before.
KOLKATA = ZoneInfo("Asia/Kolkata")
ORACLE_WEEK = {
    0: [(time(9), time(12)), (time(13), time(17))],
    1: [(time(9), time(12)), (time(13), time(17))],
    2: [(time(22), time(6))],
    3: [(time(0), time(0))],
    4: [(time(8), time(9)), (time(8, 30), time(10))],
    5: [],
    6: [(time(23), time(0))],
}
ORACLE_CLOSURE = date(2026, 2, 4)  # a Wednesday: its overnight interval does not run


def _oracle_open(local: datetime) -> bool:
    for back in (0, 1):
        day = local.date() - timedelta(days=back)
        if day == ORACLE_CLOSURE:
            continue
        for s, e in ORACLE_WEEK[day.weekday()]:
            begin = datetime.combine(day, s)
            finish = datetime.combine(day if e > s else day + timedelta(days=1), e)
            if begin <= local < finish:
                return True
    return False


ORACLE_CLOCK = BusinessClock(
    BusinessHours(
        mon=["09:00-12:00", "13:00-17:00"],
        tue=["09:00-12:00", "13:00-17:00"],
        wed=["22:00-06:00"],
        thu=["00:00-24:00"],
        fri=["08:00-09:00", "08:30-10:00"],
        sat=[],
        sun=["23:00-24:00"],
        holidays=False,
        closures=[ORACLE_CLOSURE],
    ),
    "Asia/Kolkata",
)


@settings(max_examples=40, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 20), max_value=datetime(2026, 2, 20)),
    minutes=st.integers(min_value=0, max_value=4 * 24 * 60),
)
def test_matches_a_minute_by_minute_oracle(start: datetime, minutes: int) -> None:
    local = start.replace(second=0, microsecond=0)
    expected = sum(_oracle_open(local + timedelta(minutes=i)) for i in range(minutes)) * 60.0
    actual = ORACLE_CLOCK.business_seconds(
        local.replace(tzinfo=KOLKATA), (local + timedelta(minutes=minutes)).replace(tzinfo=KOLKATA)
    )
    assert actual == expected
