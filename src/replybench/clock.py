"""Business-hours arithmetic: when a target is open, and how much of a span falls into its opening hours.

A :class:`BusinessClock` turns a target's weekly opening hours (:class:`~replybench.models.BusinessHours`,
in the target's own IANA time zone) into concrete UTC intervals, one local calendar day at a time, and
answers questions about them: is the target open at an instant, how many business seconds lie between two
instants, when does it next open, and when will a given amount of business time have elapsed.

Rules, stated explicitly because they decide results at the edges:

* **Intervals belong to the day they start on.** ``"22:00-06:00"`` on Friday runs Friday 22:00 to Saturday
  06:00 local time; an interval whose start equals its end (``"00:00-24:00"``) lasts until the same
  wall-clock time on the next day. A public holiday or an explicit closure closes the intervals that *start*
  on that day (an overnight interval starting the evening before a holiday still runs into it).
* **Public holidays** come from the ``holidays`` package for ``country`` and ``hours.subdivision`` (its
  default category, public holidays, including the "observed" days it reports), only when
  ``hours.holidays`` is true. ``hours.closures`` always close the day. Without a country only the closures
  apply.
* **Overlapping or touching intervals are merged**, so :meth:`BusinessClock.open_intervals` yields
  disjoint, ordered intervals and nothing is counted twice.
* **Daylight-saving time.** Local opening times are read as wall-clock times and mapped to real instants:

  - a local time that does not exist because a spring-forward skipped it maps to the first real instant
    after the gap (the moment of the transition). This holds for starts and ends alike, so on a Berlin
    spring-forward day ``"01:00-04:00"`` lasts 2 real hours and ``"02:00-02:30"`` is empty;
  - a local time that occurs twice because of a fall-back maps to its *first* occurrence (``fold=0``) when
    it starts an interval and to its *second* occurrence (``fold=1``) when it ends one. An interval covering
    the repeated hour therefore lasts as long as the clock on the wall shows it (``"00:00-04:00"`` on a
    Berlin fall-back day is 5 real hours), and an interval inside the repeated hour includes the repetition
    (``"02:00-02:30"`` on that day is 1.5 real hours).

All results are aware datetimes in UTC; inputs may be aware datetimes in any offset or zone (naive
datetimes are rejected with :class:`ValueError`). Arithmetic is exact to the microsecond (the resolution of
:class:`datetime.timedelta`). Work is per local day, not per minute, and each day's intervals are cached,
so a year of business time costs a few milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_pkg

from replybench.models import BusinessHours, Target

__all__ = ["BusinessClock"]

_ONE_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
#: How many local days before an instant's own local day can hold an interval covering it (an interval lasts
#: at most about 24 hours plus a daylight-saving shift; two days leaves room for odd historical zones).
_LOOKBACK_DAYS = 2
#: Bound on the per-day interval cache; cleared when full (days are cheap to recompute).
_DAY_CACHE_LIMIT = 50_000

Interval = tuple[datetime, datetime]


def _require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` in UTC, or raise if it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _local_to_utc(local: datetime, tz: tzinfo, *, fold: int) -> datetime:
    """Map a naive local wall-clock time to a UTC instant (see the module docstring for gaps and folds).

    ``fold`` selects the occurrence of an ambiguous time; a non-existent time maps to the end of its gap.
    """
    candidate = local.replace(tzinfo=tz, fold=fold).astimezone(UTC)
    if candidate.astimezone(tz).replace(tzinfo=None) == local:
        return candidate
    # The wall-clock time falls in a gap. Under the offset before the transition (fold=0) it reads as an
    # instant after the transition; under the offset after it (fold=1) as an instant before. Bisect between
    # the two on whole seconds (time-zone transitions fall on whole seconds) for the first instant whose
    # offset differs from the one before the gap.
    before = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    after = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if after < before:
        before, after = after, before
    offset_before = before.astimezone(tz).utcoffset()
    lo, hi = math.floor(before.timestamp()), math.ceil(after.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(tz).utcoffset() == offset_before:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)


class BusinessClock:
    """Business-hours arithmetic for one target.

    Built from weekly opening hours, an IANA time zone and (optionally) an ISO 3166 country code for public
    holidays. Raises :class:`ValueError` at construction for an unknown time zone, country or subdivision.
    Instances are cheap to query repeatedly: each local day's intervals and each year's holidays are cached.
    """

    def __init__(self, hours: BusinessHours, timezone: str, country: str | None = None) -> None:
        try:
            self._tz: tzinfo = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {timezone!r} (expected e.g. 'Europe/Berlin')") from exc
        self.hours = hours
        self.timezone = timezone
        self.country = country
        self._weekly: dict[int, list[tuple[time, time]]] = hours.weekly()
        self._closures = frozenset(hours.closures)
        self._use_public = hours.holidays and country is not None
        self._holiday_years: dict[int, frozenset[date]] = {}
        self._day_cache: dict[date, tuple[Interval, ...]] = {}
        if hours.holidays:
            self._check_holiday_region(country, hours.subdivision)

    @classmethod
    def for_target(cls, target: Target) -> BusinessClock:
        """Build the clock of a target from its hours, time zone and country."""
        return cls(target.hours, target.timezone, target.country)

    def __repr__(self) -> str:
        return f"BusinessClock(timezone={self.timezone!r}, country={self.country!r})"

    # ----------------------------------------------------------------------------------------- holidays

    @staticmethod
    def _check_holiday_region(country: str | None, subdivision: str | None) -> None:
        """Raise :class:`ValueError` unless the ``holidays`` package knows the country and subdivision."""
        if country is None:
            if subdivision is not None:
                raise ValueError(
                    f"holiday subdivision {subdivision!r} is given but the target has no country "
                    "(set the target's country, e.g. 'DE', or remove the subdivision)"
                )
            return
        supported: dict[str, list[str]] = holidays_pkg.list_supported_countries()
        if country not in supported:
            raise ValueError(
                f"unknown country {country!r} for public holidays (expected an ISO 3166 code the 'holidays' "
                "package supports, e.g. 'DE' or 'US'; or set hours.holidays = false)"
            )
        try:
            holidays_pkg.country_holidays(country, subdiv=subdivision)
        except NotImplementedError as exc:
            choices = ", ".join(supported[country]) or "none"
            raise ValueError(
                f"unknown holiday subdivision {subdivision!r} for country {country!r} "
                f"(expected one of: {choices})"
            ) from exc

    def _public_holidays(self, year: int) -> frozenset[date]:
        """Public holidays of one year, computed once per year."""
        cached = self._holiday_years.get(year)
        if cached is None:
            assert self.country is not None  # only called when public holidays are in use
            table = holidays_pkg.country_holidays(self.country, subdiv=self.hours.subdivision, years=year)
            cached = frozenset(table.keys())
            self._holiday_years[year] = cached
        return cached

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` (a local calendar date) is a public holiday or an explicit closure.

        An aware datetime is taken at its date in the target's time zone, a naive one at its own date.
        """
        if isinstance(day, datetime):
            day = (day.astimezone(self._tz) if day.tzinfo is not None else day).date()
        if day in self._closures:
            return True
        return self._use_public and day in self._public_holidays(day.year)

    # ----------------------------------------------------------------------------------------- intervals

    def _day_intervals(self, day: date) -> tuple[Interval, ...]:
        """Return the opening intervals (UTC) that start on local date ``day``, sorted by start."""
        cached = self._day_cache.get(day)
        if cached is not None:
            return cached
        result: list[Interval] = []
        if not self.is_holiday(day):
            for start_t, end_t in self._weekly[day.weekday()]:
                local_start = datetime.combine(day, start_t)
                end_day = day if end_t > start_t else day + _ONE_DAY
                local_end = datetime.combine(end_day, end_t)
                start = _local_to_utc(local_start, self._tz, fold=0)
                end = _local_to_utc(local_end, self._tz, fold=1)
                if end > start:
                    result.append((start, end))
        result.sort()
        frozen = tuple(result)
        if len(self._day_cache) >= _DAY_CACHE_LIMIT:
            self._day_cache.clear()
        self._day_cache[day] = frozen
        return frozen

    def _local_date(self, at_utc: datetime) -> date:
        return at_utc.astimezone(self._tz).date()

    def _merged(self, first_day: date, last_day: date) -> Iterator[Interval]:
        """Yield merged opening intervals (UTC) starting on local days ``first_day`` to ``last_day``.

        Days are visited lazily. Starts are globally ordered (each day's intervals start within that local
        day, and mapping local to UTC with a fixed fold never goes backwards), so one running interval is
        enough to merge.
        """
        current: Interval | None = None
        day = first_day
        while day <= last_day:
            for start, end in self._day_intervals(day):
                if current is None:
                    current = (start, end)
                elif start <= current[1]:
                    current = (current[0], max(current[1], end))
                else:
                    yield current
                    current = (start, end)
            day += _ONE_DAY
        if current is not None:
            yield current

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Yield the opening intervals within ``[start, end)`` as aware UTC ``(start, end)`` pairs.

        Intervals are clipped to the span, merged where they overlap or touch, non-empty and in order.
        Nothing is yielded when ``end <= start``. Naive datetimes raise :class:`ValueError`.
        """
        lo = _require_aware(start, "start")
        hi = _require_aware(end, "end")
        return self._clipped(lo, hi)

    def _clipped(self, lo: datetime, hi: datetime) -> Iterator[Interval]:
        """Yield what :meth:`open_intervals` returns (kept apart so bad arguments raise at the call)."""
        if hi <= lo:
            return
        # One day either side of the span's local dates: an interval starting up to two days earlier can still
        # be open at ``lo``, and around a fall-back at local midnight the next day can start before ``hi``.
        first_day = self._local_date(lo) - timedelta(days=_LOOKBACK_DAYS)
        last_day = self._local_date(hi) + _ONE_DAY
        for s, e in self._merged(first_day, last_day):
            if s >= hi:
                return
            if e > lo:
                yield max(s, lo), min(e, hi)

    def is_open(self, at: datetime) -> bool:
        """Whether the target is open at the instant ``at`` (an interval includes its start, not its end)."""
        t = _require_aware(at, "at")
        day = self._local_date(t)
        for offset in range(-_LOOKBACK_DAYS, 2):
            for s, e in self._day_intervals(day + timedelta(days=offset)):
                if s <= t < e:
                    return True
        return False

    # ----------------------------------------------------------------------------------------- arithmetic

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of opening hours between ``start`` and ``end``; 0 if ``end <= start``."""
        total = timedelta(0)
        for s, e in self.open_intervals(start, end):
            total += e - s
        return total.total_seconds()

    def next_open(self, at: datetime, *, horizon_days: int = 400) -> datetime | None:
        """Return ``at`` (in UTC) if open, else the next instant the target opens.

        Returns ``None`` if the target does not open within ``horizon_days`` days after ``at`` (inclusive).
        """
        if horizon_days < 0:
            raise ValueError(f"horizon_days must not be negative, got {horizon_days}")
        t = _require_aware(at, "at")
        limit = t + timedelta(days=horizon_days) + _TICK
        for s, _ in self.open_intervals(t, limit):
            return s
        return None

    def add_business_time(
        self, start: datetime, seconds: float, *, horizon_days: int = 400
    ) -> datetime | None:
        """Return the first instant at which ``seconds`` of business time have elapsed since ``start`` (UTC).

        This is the smallest ``t`` with ``business_seconds(start, t) == seconds`` (to the microsecond):
        for ``seconds == 0`` it is ``start`` itself, and time used up exactly at a closing time gives that
        closing time, not the next opening. Returns ``None`` if that instant lies more than ``horizon_days``
        days after ``start``. Raises :class:`ValueError` for negative or non-finite ``seconds``.
        """
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be a finite, non-negative number, got {seconds!r}")
        if horizon_days < 0:
            raise ValueError(f"horizon_days must not be negative, got {horizon_days}")
        t = _require_aware(start, "start")
        remaining = timedelta(seconds=seconds)
        if remaining == timedelta(0):
            return t
        limit = t + timedelta(days=horizon_days) + _TICK
        for s, e in self.open_intervals(t, limit):
            length = e - s
            if remaining <= length:
                return s + remaining
            remaining -= length
        return None
