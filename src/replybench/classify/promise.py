"""Response promises: "we will get back to you within 2 business days", and when such a promise falls due.

Acknowledgements, holding replies, form confirmation pages and chat widgets often state how long an answer
will take. :func:`extract_promise` finds that statement in English, German, French, Spanish, Italian, Dutch
and Swedish and returns it as a :class:`Promise`; :meth:`Promise.deadline` turns it into an instant.

How a promise is found (all matching is case-insensitive and accent-insensitive: "délai" reads as "delai"):

1. **A duration**: a number (digits such as ``24``, ``1.5``, ``24h``, ``48 hrs``, ``72 Std.``, or a number
   word from one to twelve plus a few common larger ones in each language; "a"/"an"/"ein"/"un"/"een"/"en"
   count as one; "half an hour" and its translations as 0.5 hour), optionally a range whose *upper* bound is
   taken ("1-2", "1 to 2", "24 bis 48", "1 à 2", "a day or two"), and a unit: minutes, hours, days, weeks,
   or business hours/days/weeks ("business", "working", "Werktage", "Arbeitstage", "jours ouvrés/ouvrables",
   "días hábiles/laborables", "giorni lavorativi", "werkdagen", "arbetsdagar" ...). A business qualifier
   must belong to the unit: "24 hours on working days" is 24 calendar hours.
2. **A time preposition** before it ("within", "in", "innerhalb von", "binnen", "sous", "dans un délai de",
   "en un plazo de", "entro", "binnen", "inom", "please allow", "dauert" ...), possibly with fillers ("the
   next", "den nächsten", "les", "un plazo máximo de", "le prossime", "de komende", "ca.", "max." ...).
   Without one, the duration counts only right after a response-time noun ("Response time: 24 hours",
   "Reaktionszeit: 48 Std.", "délai de réponse : 48h") or right before one ("a 24-hour response"). This is
   what keeps "we are open 24 hours", "30-day return policy", "Mo-Fr 9-17" and dates out.
3. **Reply context** around it. Cues come in three kinds:

   - *strong*: reply, respond, answer, get back to you, be in touch, contact you, hear from us, wait time;
     antworten, melden uns, Rückmeldung, kontaktieren; répondre, revenir vers vous, recontacter;
     responder, respuesta, ponernos en contacto; rispondere, ricontattare; reageren, antwoord, contact
     opnemen; svara, återkomma, höra av oss ... (and the response-time nouns);
   - *weak*: the inquiry itself being handled: request, inquiry, ticket, message, processed, handled;
     Anfrage, Anliegen, bearbeitet; demande, traitée; solicitud, consulta; richiesta, pratica; aanvraag,
     behandeld; ärende, handläggs ...;
   - *blockers*: words of another kind of deadline: delivery, shipping, order, return, refund, open, payment,
     warranty; Lieferung, Versand, Bestellung, Rückgabe, geöffnet; livraison, commande, remboursement;
     envío, entrega, pedido; consegna, spedizione, ordine; levering, bestelling; leverans, beställning ...

   The words *before* the duration in its sentence decide: it is a response promise when they hold a
   strong cue at least as close to the duration as every blocker among them, or a weak cue and no blocker.
   When they hold no cue of any kind, the words *after* it decide by the same rule ("U ontvangt binnen 24
   uur een antwoord"); when neither side does, a strong cue in the sentence before ("We will reply soon.
   Please allow 2 business days."). Sentences end at ``. ! ? ;`` (not after "ca.", "Std.", "max." ...) or
   at a blank line; single line breaks do not end one. So "delivery within 3 days" is rejected, "your order
   ships within 2 days and we reply within 24 hours" gives 24 hours, and "we respond to questions about
   delivery within 3 days" is rejected too (the blocker is nearer): a deliberate bias towards missing a
   promise rather than inventing one.

4. **Special forms**: "by the end of the next business day", "am nächsten Werktag", "le jour ouvré
   suivant", "el próximo día hábil", "il prossimo giorno lavorativo", "de volgende werkdag", "nästa
   arbetsdag" are one business day; "within the next hour", "in der nächsten Stunde", "dans l'heure",
   "en la próxima hora", "entro la prossima ora", "binnen het uur", "inom den närmaste timmen" one hour.
   An "h" that reads as a time of day is not a duration: "d'ici 17h", "jusqu'à 18h", "entre 9h et 17h"
   (a range of "h" from 6 to 22).

Rejected on purpose (no number can be justified): "as soon as possible", "shortly", "within the next few
hours", "in a couple of days", "within hours", "same day", "by tomorrow", "by 5 pm". A duration of zero or of
more than a year (366 days, 53 weeks, 8784 hours) is not a response promise either.

When a text states several promises the **first** in reading order is returned ("we aim to reply within 4
hours, and always within 2 business days" gives 4 hours): it is the one a reader meets first and usually
the headline. Only the first :data:`READ_CHARS` characters are read, and only the first 64 durations in
them are judged.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, cast
from zoneinfo import ZoneInfo

from replybench.clock import BusinessClock

__all__ = ["READ_CHARS", "Promise", "Unit", "extract_promise"]

#: How much of a text is read: promises are stated near the top of an acknowledgement.
READ_CHARS = 8000
#: Longest evidence phrase kept.
PHRASE_CHARS = 120

Unit = Literal["minute", "hour", "day", "week"]

_UNIT_SECONDS: dict[str, int] = {"minute": 60, "hour": 3600, "day": 86400, "week": 604800}
#: The largest count per unit that is still a response promise (a year).
_MAX_COUNT: dict[str, float] = {"minute": 527_040, "hour": 8784, "day": 366, "week": 53}
#: Business days in a business week.
_WEEK_DAYS = 5
#: How far ahead a deadline is searched before giving up (None).
_HORIZON_DAYS = 3700
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Promise:
    """A stated response time: ``count`` units of ``unit``, in business time when ``business`` is true.

    ``phrase`` is the text that stated it (one line, at most 120 characters), kept as evidence.
    """

    count: float
    unit: Unit
    business: bool
    phrase: str

    def describe(self) -> str:
        """The promise in plain words: ``2 business days``, ``24 hours``, ``0.5 hour``."""
        count = f"{self.count:g}"
        unit = self.unit if self.count == 1 or self.count < 1 else self.unit + "s"
        return f"{count} {'business ' if self.business else ''}{unit}"

    def to_detail(self) -> dict[str, str]:
        """The promise as classification detail (string values, stored with the message)."""
        return {
            "promise": self.phrase,
            "promise_count": f"{self.count:g}",
            "promise_unit": self.unit,
            "promise_business": "true" if self.business else "false",
        }

    @classmethod
    def from_detail(cls, detail: Mapping[str, str]) -> Promise | None:
        """The promise a message's classification detail records (see :meth:`to_detail`), or None."""
        phrase, unit = detail.get("promise"), detail.get("promise_unit")
        if not phrase or unit not in _UNIT_SECONDS:
            return None
        try:
            count = float(detail.get("promise_count", ""))
        except ValueError:
            return None
        if not count > 0:
            return None
        return cls(count, cast(Unit, unit), detail.get("promise_business") == "true", phrase)

    @property
    def calendar_seconds(self) -> float | None:
        """The promised duration in seconds for a calendar promise; None for a business-time one."""
        if self.business:
            return None
        return self.count * _UNIT_SECONDS[self.unit]

    def deadline(self, start: datetime, clock: BusinessClock | None) -> datetime | None:
        """When the promise falls due for an inquiry made at ``start`` (an aware datetime; result in UTC).

        - Calendar promises: ``start`` plus the duration in elapsed time (24 hours across a daylight-saving
          change are 24 real hours); ``clock`` is not used.
        - Business minutes and hours: :meth:`BusinessClock.add_business_time` from ``start``.
        - Business days and weeks (a week is 5 business days; a fractional count is rounded up): the closing
          time of the N-th day on which the company opens, counting the local days (in the clock's time zone)
          strictly after the local date of ``start``. A Monday inquiry promised "2 business days" is due at
          Wednesday's closing time, a Saturday one at Tuesday's. A day counts when an opening period starts
          on it, or when the company is open all of it; its closing time is the end of the last opening
          period starting that day, even past midnight, except that a period running through the whole
          next day closes at midnight (so a 24/7 company's day ends at midnight). Public holidays and
          closures are the clock's.
        - A business promise without a clock: None (the deadline cannot be known; business days are not
          calendar days). None also when the deadline lies beyond about ten years.

        Raises :class:`ValueError` for a naive ``start``.
        """
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"start must be a timezone-aware datetime, got naive {start.isoformat()}")
        begin = start.astimezone(UTC)
        try:
            if not self.business:
                return begin + timedelta(seconds=self.count * _UNIT_SECONDS[self.unit])
            if clock is None:
                return None
            if self.unit in ("minute", "hour"):
                seconds = self.count * _UNIT_SECONDS[self.unit]
                return clock.add_business_time(begin, seconds, horizon_days=_HORIZON_DAYS)
            days = math.ceil(self.count * (_WEEK_DAYS if self.unit == "week" else 1))
            return _business_day_close(clock, begin, max(days, 1))
        except OverflowError:
            return None


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of local ``day`` in UTC.

    A midnight skipped by a spring-forward maps (``fold=0``) to the moment of the transition when the gap
    starts at midnight, as in the zones that move their clocks then.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _business_day_close(clock: BusinessClock, begin: datetime, days: int) -> datetime | None:
    """Closing time of the ``days``-th opening day strictly after ``begin``'s local date (see deadline)."""
    tz = ZoneInfo(clock.timezone)
    day = begin.astimezone(tz).date()
    found = 0
    for _ in range(_HORIZON_DAYS):
        day += timedelta(days=1)
        lo, hi = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
        periods = list(clock.open_intervals(lo, hi))
        if not periods:
            continue
        if periods == [(lo, hi)]:
            close = hi  # open all day
        else:
            fresh = [p for p in periods if not (p[0] == lo and clock.is_open(lo - _TICK))]
            if not fresh:
                continue  # only the previous day's opening running past midnight
            close = fresh[-1][1]
            if close == hi:
                after = _midnight(day + timedelta(days=2), tz)
                follow = next(iter(clock.open_intervals(hi, after)), None)
                if follow is not None and follow[0] == hi and follow[1] < after:
                    close = follow[1]
        found += 1
        if found == days:
            return close
    return None


# --------------------------------------------------------------------------------------------- folding

_APOSTROPHES = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'"}


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """One character without accents, if that keeps it one character (so positions stay the same)."""
    if ch.isascii():
        return ch
    if ch in _APOSTROPHES:
        return _APOSTROPHES[ch]
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base if len(base) == 1 else ch


def _fold(text: str) -> str:
    """``text`` without accents, character for character (same length, so spans map back to ``text``)."""
    if text.isascii():
        return text
    return "".join(_fold_char(c) for c in text)


# --------------------------------------------------------------------------------------------- numbers


def _word_key(word: str) -> str:
    return re.sub(r"[\s-]+", " ", word)


def _word_numbers() -> dict[str, float]:
    """Number words (folded, lower case; "_" joins the words of one number) and their values."""
    table = (
        (1, "one a an ein eine einem einer eines einen un une uno una een ett en"),
        (2, "two zwei zwo deux dos due twee tva"),
        (3, "three drei trois tres tre drie"),
        (4, "four vier quatre cuatro quattro fyra"),
        (5, "five funf cinq cinco cinque vijf fem"),
        (6, "six sechs seis sei zes sex"),
        (7, "seven sieben sept siete sette zeven sju"),
        (8, "eight acht huit ocho otto atta"),
        (9, "nine neun neuf nueve nove negen nio"),
        (10, "ten zehn dix diez dieci tien tio"),
        (11, "eleven elf onze once undici elva"),
        (12, "twelve zwolf douze doce dodici twaalf tolv"),
        (14, "fourteen vierzehn quatorze catorce quattordici veertien fjorton"),
        (15, "fifteen funfzehn quinze quince quindici vijftien femton"),
        (20, "twenty zwanzig vingt veinte venti twintig tjugo"),
        (24, "twenty-four vierundzwanzig vingt-quatre veinticuatro ventiquattro vierentwintig tjugofyra"),
        (30, "thirty dreissig dreißig trente treinta trenta dertig trettio"),
        (48, "forty-eight achtundvierzig quarante-huit cuarenta_y_ocho quarantotto achtenveertig fyrtioatta"),
        (72, "seventy-two zweiundsiebzig soixante-douze setenta_y_dos settantadue tweeenzeventig sjuttiotva"),
    )
    return {
        _word_key(word.replace("_", " ")): float(value) for value, words in table for word in words.split()
    }


_WORD_NUMBERS = _word_numbers()


def _word_pattern(word: str) -> str:
    return r"[\s-]+".join(re.escape(part) for part in re.split(r"[\s-]", word))


_NUMBER_WORDS = "|".join(_word_pattern(w) for w in sorted(_WORD_NUMBERS, key=len, reverse=True))
_DIGITS = r"(?<![0-9.,])[0-9]{1,4}(?:[.,][0-9]{1,2})?(?![0-9])"
_NUM = rf"(?:{_DIGITS}|\b(?:{_NUMBER_WORDS})\b)"


def _number(token: str) -> float | None:
    """The value of a number token (digits or a number word), or None."""
    token = token.strip().lower()
    if token[:1].isdigit():
        try:
            return float(token.replace(",", "."))
        except ValueError:
            return None
    return _WORD_NUMBERS.get(_word_key(token))


# --------------------------------------------------------------------------------------------- units

# (pattern, unit, business), tried in order: business forms before the calendar words they contain.
_UNITS: tuple[tuple[str, Unit, bool], ...] = (
    (r"(?:business|working|work)[\s-]*weeks?|arbeitswochen?|werkweken?|arbetsveck(?:or|a)", "week", True),
    (
        r"(?:business|working|work|week)[\s-]*days?|(?:werk|arbeits|geschafts|bankarbeits)tag(?:e|en|es|s)?"
        r"|jours?\s+(?:ouvres|ouvre|ouvrables?|ouvrees?)|dias?\s+(?:habiles|habil|laborables?|laborales?|utiles)"
        r"|giorn[oi]\s+(?:lavorativ[oi]|feriali|feriale)|werkdag(?:en)?|(?:arbets|var)dag(?:ar|en|arna)?",
        "day",
        True,
    ),
    (
        r"(?:business|working|work|office)[\s-]*(?:hours?|hrs?\b\.?)|(?:arbeits|geschafts|werk|buro)stunden?"
        r"|heures?\s+(?:ouvrees?|ouvrables?|ouvres|de\s+bureau)|horas?\s+(?:habiles|habil|laborables?"
        r"|laborales?|de\s+oficina)|or[ea]\s+(?:lavorativ[ea]|d'ufficio)|(?:werk|kantoor)u(?:ur|ren)"
        r"|(?:arbets|kontors)timm(?:ar|e)",
        "hour",
        True,
    ),
    (r"minutes?|mins?\b\.?|minuten?|minutos?|minut[oi]|minuut|minuter|minut", "minute", False),
    (
        r"hours?|hrs?\b\.?|stunden?|std\b\.?|heures?|horas?|hs\b|ore|ora|uur|uren|timm(?:ar|e|en|arna)|tim\b"
        r"|h(?![0-9])",
        "hour",
        False,
    ),
    (r"days?|tag(?:e|en|es)?|jours?|dias?|giorni|giorno|gg\b\.?|dagen|dagar|dag|dygn(?:et)?", "day", False),
    (r"weeks?|wochen?|semaines?|semanas?|settimane|settimana|weken|week|veckor|vecka(?:n)?", "week", False),
)
_UNIT = "|".join(f"(?:{p})" for p, _, _ in _UNITS)
_UNIT_CLASSES = tuple((re.compile(p, re.IGNORECASE), u, b) for p, u, b in _UNITS)
#: A unit ends a word ("days" but not "dayshift"; "Std." keeps its dot).
_UNIT_END = r"(?![^\W_])"

_HALF = (
    r"half\s+an?\s+hour|(?:eine[rnm]?\s+)?halben?\s+stunde|(?:une\s+)?demi[\s-]heure|media\s+hora"
    r"|mezz'?\s?ora|(?:een\s+)?half\s+uur|(?:en\s+)?halvtimme"
)

# --------------------------------------------------------------------------------------------- prepositions

_PREPS = (
    # en
    r"within|in|inside(?:\s+of)?|under|during|over|by|between|no\s+later\s+than|(?:please\s+)?allow"
    r"|(?:can\s+|may\s+|will\s+)?takes?|up\s+to|"
    # de
    r"innerhalb(?:\s+von)?|binnen|innert|bis\s+zu|spatestens\s+in|im\s+laufe\s+(?:von|der|des)|zwischen|dauert|dauern|"
    # fr
    r"sous|dans|d'ici|en|endeans|entre|jusqu'a|au\s+plus\s+tard\s+(?:dans|sous|en)|comptez|prend|"
    # es
    r"dentro\s+de|antes\s+de|hasta|durante|tarda(?:mos|remos)?|"
    # it
    r"entro(?:\s+e\s+non\s+oltre)?|nel\s+giro\s+di|tra|fra|fino\s+a|richiede|"
    # nl
    r"binnen|duurt|"
    # sv
    r"inom(?:\s+loppet\s+av)?|pa|senast\s+inom|tar"
)
_FILLERS = (
    r"the\s+next|the\s+coming|the\s+following|a\s+max(?:imum)?\s+of|max(?:imum)?\.?|at\s+most|at\s+the\s+latest"
    r"|about|around|approx(?:imately|\.)?|roughly|some|less\s+than|no\s+more\s+than|up\s+to|under|just"
    r"|usually|typically|normally|generally|an?|"
    r"von|der\s+nachsten|den\s+nachsten|der\s+kommenden|den\s+kommenden|maximal|hochstens|spatestens|ca\.?"
    r"|circa|zirka|etwa|rund|ungefahr|weniger\s+als|bis\s+zu|in\s+der\s+regel|normalerweise|meist(?:ens)?|"
    r"les|les\s+prochaine?s|un\s+delai\s+(?:maximum\s+|maximal\s+|max\.?\s+|moyen\s+)?(?:de|d'environ)"
    r"|moins\s+de|environ|au\s+maximum|au\s+plus|en\s+general|generalement|"
    r"las\s+proximas|los\s+proximos|las\s+siguientes|los\s+siguientes"
    r"|un\s+plazo\s+(?:maximo\s+|max\.?\s+|aproximado\s+)?de|un\s+maximo\s+de|menos\s+de|aproximadamente|unas"
    r"|unos|maximo|normalmente|generalmente|"
    r"le\s+prossime|i\s+prossimi|un\s+massimo\s+di|meno\s+di|al\s+massimo|massimo|le\s+successive"
    r"|i\s+successivi|solitamente|"
    r"de\s+komende|de\s+volgende|maximaal|ongeveer|uiterlijk|hooguit|doorgaans|meestal|"
    r"de\s+narmaste|de\s+kommande|hogst|cirka|ungefar|senast|vanligtvis|normalt"
)
_RANGE = (
    r"\s*(?:-|–|—|/|\bto\b|\bor\b|\band\b|\bbis\b|\boder\b|\bund\b|\ba\b|\bou\b|\bet\b|\bo\b|\by\b|\be\b"
    r"|\btot\b|\bof\b|\btill\b|\beller\b|\boch\b)\s*"
)

_DURATION = re.compile(
    rf"(?P<prep>\b(?:{_PREPS})\s+(?:(?:{_FILLERS})\s+){{0,3}})?"
    rf"(?:(?P<half>\b(?:{_HALF}){_UNIT_END})"
    rf"|(?P<num1>{_NUM})(?:{_RANGE}(?P<num2>{_NUM}))?\s*[-']?\s*(?P<unit>{_UNIT}){_UNIT_END}"
    # an upper bound after the unit: "24 hours to 48 hours", "24h-48h"; or "a day or two"
    rf"(?:{_RANGE}(?P<num4>{_NUM})\s*-?\s*(?P<unit2>{_UNIT}){_UNIT_END}"
    rf"|\s+(?:or|oder|ou|o|of|eller)\s+(?P<num3>{_NUM})(?!\s*-?\s*(?:{_UNIT}){_UNIT_END}){_UNIT_END})?)",
    re.IGNORECASE,
)

#: "One" of a unit without a number: "the next business day", "within the next hour", "dans l'heure".
_NEXT_ONE = re.compile(
    r"\b(?:(?P<bday>(?:the\s+)?(?:next|following)\s+(?:business|working|work)[\s-]*day"
    r"|(?:nachsten|folgenden)\s+(?:werk|arbeits|geschafts)tag(?:e|es|s)?"
    r"|prochain\s+jour\s+(?:ouvre|ouvrable)|jour\s+(?:ouvre|ouvrable)\s+suivant"
    r"|(?:proximo|siguiente)\s+dia\s+(?:habil|laborable)|dia\s+(?:habil|laborable)\s+siguiente"
    r"|prossimo\s+giorno\s+lavorativo|giorno\s+lavorativo\s+(?:successivo|seguente)"
    r"|volgende\s+werkdag|(?:nasta|foljande)\s+(?:arbetsdag|vardag))"
    r"|(?P<hour>(?:within|in|over|during)\s+the\s+(?:next|coming)\s+hour"
    r"|(?:in|innerhalb)\s+(?:der|den)\s+(?:nachsten|kommenden)\s+stunde|dans\s+l'heure"
    r"|(?:en|dentro\s+de)\s+la\s+(?:proxima|siguiente)\s+hora|entro\s+la\s+prossima\s+ora"
    r"|binnen\s+het\s+(?:komende\s+)?uur|inom\s+den\s+(?:narmaste|kommande)\s+timmen))\b",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------------------------- context cues

#: Nouns that name a response time; the only context in which a duration without a preposition counts.
_RESPONSE_TIME = (
    r"response\s+times?|reply\s+times?|answer\s+times?|turnaround(?:\s+times?)?|first\s+response|wait(?:ing)?"
    r"\s+times?|\bsla\b|antwortzeit|reaktionszeit|bearbeitungs(?:zeit|dauer)|ruckmeldezeit|wartezeit"
    r"|delai\s+(?:moyen\s+)?de\s+(?:reponse|traitement)|temps\s+(?:moyen\s+)?de\s+reponse|temps\s+d'attente"
    r"|tiempo\s+(?:medio\s+|estimado\s+)?de\s+(?:respuesta|espera|atencion)|plazo\s+de\s+respuesta"
    r"|temp[oi]\s+(?:medi[oi]\s+)?di\s+(?:risposta|attesa)|reactietijd|antwoordtijd|wachttijd|responstijd"
    r"|svarstid|vantetid|responstid|handlaggningstid"
)
_RT_BEFORE = re.compile(rf"(?:{_RESPONSE_TIME})[^0-9.!?;\n]{{0,40}}$", re.IGNORECASE)
_RT_AFTER = re.compile(
    r"\s*-?\s*(?:response|reply|answer|turnaround|antwort|reaktion|reponse|respuesta|risposta|reactie|svar)",
    re.IGNORECASE,
)

_STRONG = re.compile(
    rf"\b(?:{_RESPONSE_TIME}"
    # en
    r"|repl(?:y|ies|ied|ying)|respon(?:d|ds|ded|ding|se|ses)|answer\w*|get(?:ting)?\s+back\s+to"
    r"|get\s+in\s+touch|be\s+in\s+touch|in\s+contact|contact(?:s|ed|ing)?\s+you|reach(?:ing)?\s+out"
    r"|reach\s+you|hear\s+(?:back\s+)?from|follow(?:ing)?[\s-]up|come\s+back\s+to\s+you|revert"
    r"|call(?:ing)?\s+you\s+back|call\s+back|callback|return(?:ing)?\s+your\s+call|be\s+with\s+you"
    r"|join\s+(?:you|the\s+chat)|connect\s+you"
    # de
    r"|antwort\w*|beantwort\w*|meld(?:en|e|et)\b|zuruckmeld\w*|ruckmeld\w*|zuruckruf\w*|ruckruf\w*"
    r"|kontaktier\w*|kontakt\s+(?:zu\s+ihnen\s+)?aufnehmen|in\s+verbindung|reaktion\w*"
    r"|horen\s+sie\s+von\s+uns"
    # fr
    r"|repond\w*|repons\w*|reviendr\w*|revenir\s+vers|recontact\w*|contacter\w*|contactera\w*"
    r"|prendr\w*\s+contact|rappel\w*"
    # es
    r"|respond\w*|respuesta\w*|contest\w*|contactar\w*|pondr\w*\s+en\s+contacto|comunicar\w*"
    r"|devolver\w*\s+la\s+llamada|atender\w*|atendera\w*"
    # it
    r"|rispond\w*|rispost\w*|ricontatt\w*|contatter\w*|contattar\w*|in\s+contatto|richiamar\w*|riscontro"
    # nl
    r"|antwoord\w*|beantwoord\w*|reageren|reageert|reactie\w*|contact\s+(?:met\s+(?:u|je|jou)\s+)?op(?:nemen)?"
    r"|terugkoppel\w*|terugbellen|bellen\s+u\s+terug|hoort\s+u\s+van\s+ons|bij\s+(?:u|je|jou)\s+terug"
    r"|(?:komen|kom)\s+(?:hier\s+)?(?:op\s+)?terug|terugkomen"
    # sv
    r"|svar\w*|besvara\w*|kontakta\w*|aterkomm\w*|aterkoppl\w*|hor\w*\s+av\s+(?:oss|sig)|ringa\s+upp"
    r"|ringer\s+upp)",
    re.IGNORECASE,
)
_WEAK = re.compile(
    r"\b(?:request\w*|inquir\w*|enquir\w*|tickets?|case|messages?|e-?mails?|questions?|concerns?|query"
    r"|queries|handled|processed|reviewed|looked\s+at|support\s+team|customer\s+service"
    r"|anfrage\w*|anliegen|nachricht\w*|bearbeit\w*|fragen?|kundenservice|support"
    r"|demandes?|requetes?|trait(?:e|ee|es|ees|ement|erons|era)|service\s+client"
    r"|solicitud\w*|consultas?|mensajes?|caso|gestion\w*|tramit\w*|preguntas?|correos?|atencion\s+al\s+cliente"
    r"|richiest\w*|messaggi|messaggio|segnalazion\w*|pratica|pratiche|domand\w*|gestit\w*|evas\w*|assistenza"
    r"|aanvra\w*|vra(?:ag|gen)|bericht\w*|verzoek\w*|behandel\w*|klantenservice"
    r"|arende\w*|fraga|fragor|fragan|meddelande\w*|forfragan|handlagg\w*|e-?post|kundtjanst)\b",
    re.IGNORECASE,
)
_BLOCK = re.compile(
    r"\b(?:deliver\w*|shipping|ship(?:s|ped|ment|ments)?|dispatch\w*|arriv\w*|return(?:s|ed)?|refund\w*"
    r"|exchanges?|open|opened|opening|closed|trial|warranty|money[\s-]back|subscription\w*|cancel\w*"
    r"|payments?|paid|invoices?|transfers?|credited|orders?|ordered|packages?|parcels?|courier|tracking"
    r"|expir\w*|withdraw\w*|installation|repairs?"
    r"|liefer\w*|versand\w*|zugestellt|zustellung|ruckgabe\w*|rucksend\w*|retoure\w*|umtausch\w*|erstatt\w*"
    r"|gutschrift\w*|geoffnet|geschlossen|offnungszeit\w*|widerruf\w*|bestellung\w*|paket\w*|zahlung\w*"
    r"|rechnung\w*|uberweisung\w*|kundigung\w*|garantie\w*|gewahrleistung"
    r"|livr\w*|expedi\w*|retours?|rembours\w*|echanges?|ouvert\w*|ferme|fermee|commandes?|colis|paiements?"
    r"|factures?|virements?|retractation"
    r"|envios?|entregas?|entregad\w*|devolucion\w*|reembols\w*|abiert\w*|cerrad\w*|pedidos?|paquetes?"
    r"|pagos?|facturas?|transferencias?|garantia"
    r"|consegn\w*|spedizion\w*|spedit\w*|resi|reso|rimbors\w*|apert\w*|chius\w*|ordini|ordine|pacchi"
    r"|pacco|pagament\w*|fattur\w*|bonific\w*|garanzia|recesso"
    r"|lever\w*|verzend\w*|verzonden|geopend|gesloten|bestelling\w*|pakket\w*|betaling\w*|factuur"
    r"|bedenktijd"
    r"|leverans\w*|levereras|frakt\w*|retur\w*|aterbetal\w*|oppet|oppna\w*|stangt|bestallning\w*"
    r"|betalning\w*|faktura\w*|garanti|angerratt)\b",
    re.IGNORECASE,
)

# A sentence ends at . ! ? ; before white space (but not after a digit, a single letter or a common
# abbreviation such as "ca." or "Std.") or at a blank line. A single line break does not end one: mail is
# hard-wrapped.
_BOUNDARY = re.compile(
    r"(?<![0-9])(?<!\b[a-z])(?<!\bca)(?<!\bmax)(?<!\bmin)(?<!\bstd)(?<!\bhrs)(?<!\bapprox)(?<!\bbzw)"
    r"(?<!\binkl)(?<!\bevtl)(?<!\bggf)(?<!\betc)(?<!\benv)(?<!\bmr)(?<!\bmrs)(?<!\bdr)[.!?;]+(?=\s)"
    r"|\n[ \t]*\n",
    re.IGNORECASE,
)
#: Context read before and after a duration, within its sentence.
_BEFORE_CHARS = 200
_AFTER_CHARS = 150
_SPACES = re.compile(r"\s+")
#: At most this many durations are judged in their context (a real acknowledgement states a handful).
_MAX_CANDIDATES = 64


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    count: float
    unit: Unit
    business: bool
    free: bool  # stated without a preposition: needs a response-time noun beside it


def extract_promise(text: str) -> Promise | None:
    """Return the first response promise stated in ``text`` (see the module docstring), or None."""
    original = text[:READ_CHARS]
    folded = _fold(original)
    bounds = [0, *(m.end() for m in _BOUNDARY.finditer(folded))]
    candidates = [c for m in _DURATION.finditer(folded) if (c := _duration(m)) is not None]
    for m in _NEXT_ONE.finditer(folded):
        unit: Unit = "day" if m.group("bday") else "hour"
        candidates.append(_Candidate(m.start(), m.end(), 1.0, unit, unit == "day", free=False))
    candidates.sort(key=lambda c: (c.start, -c.end))
    for c in candidates[:_MAX_CANDIDATES]:
        if c.free and not _beside_response_time(folded, c.start, c.end):
            continue
        cue = _reply_cue(folded, bounds, c.start, c.end)
        if cue is None:
            continue
        phrase = _phrase(original, min(c.start, cue[0]), max(c.end, cue[1]), c.start, c.end)
        return Promise(c.count, c.unit, c.business, phrase)
    return None


def _classify(unit_text: str) -> tuple[Unit, bool]:
    for pattern, unit, business in _UNIT_CLASSES:
        if pattern.fullmatch(unit_text):
            return unit, business
    raise AssertionError(f"unclassified unit {unit_text!r}")  # pragma: no cover - the regex has no other


def _duration(m: re.Match[str]) -> _Candidate | None:
    """The candidate a duration match states, or None when it is not a usable duration."""
    prep = (m.group("prep") or "").lower()
    free = not prep
    if m.group("half"):
        return _Candidate(m.start(), m.end(), 0.5, "hour", False, free)
    values = [_number(g) for g in (m.group("num1"), m.group("num2"), m.group("num3")) if g]
    if any(v is None for v in values):
        return None
    low = values[0] or 0.0
    count = max(v for v in values if v is not None)
    unit, business = _classify(m.group("unit"))
    bare_h = m.group("unit").lower() == "h"
    if m.group("unit2"):
        upper = _number(m.group("num4"))
        unit2, business2 = _classify(m.group("unit2"))
        if upper is None:
            return None
        bare_h = bare_h and m.group("unit2").lower() == "h"
        if upper * _UNIT_SECONDS[unit2] > count * _UNIT_SECONDS[unit]:
            count, unit, business = upper, unit2, business2
    if bare_h and _clock_time(prep, low, count, ranged=len(values) > 1 or m.group("unit2") is not None):
        return None
    if math.isnan(count) or not 0 < count <= _MAX_COUNT[unit]:
        return None
    return _Candidate(m.start(), m.end(), count, unit, business, free)


def _clock_time(prep: str, low: float, high: float, *, ranged: bool) -> bool:
    """Whether an "h" duration reads as a time of day: "d'ici 17h", "jusqu'à 18h", "entre 9h et 17h"."""
    if ranged:
        return 6 <= low < high <= 22
    return prep.startswith(("d'ici", "jusqu'a")) and high < 24


def _beside_response_time(folded: str, start: int, end: int) -> bool:
    """Whether a duration without a preposition follows or precedes a response-time noun."""
    before = _RT_BEFORE.search(folded, max(0, start - 80), start)
    return bool(before or _RT_AFTER.match(folded, end, end + 30))


def _sentence(bounds: list[int], pos: int, length: int) -> tuple[int, int]:
    """The sentence (start, end) holding position ``pos``."""
    i = bisect.bisect_right(bounds, pos) - 1
    return bounds[i], bounds[i + 1] if i + 1 < len(bounds) else length


def _reply_cue(folded: str, bounds: list[int], start: int, end: int) -> tuple[int, int] | None:
    """The span of the cue that makes a duration a reply promise, or None (rules in the module docstring).

    The words before the duration in its sentence decide; when they hold no cue, the words after it; when
    neither does, a strong cue in the sentence before.
    """
    lo, hi = _sentence(bounds, start, len(folded))
    hi = max(hi, end)
    for window in ((max(lo, start - _BEFORE_CHARS), start), (end, min(hi, end + _AFTER_CHARS))):
        verdict = _judge(folded, window, start, end, weak_ok=True)
        if verdict is not False:
            return verdict
    if lo == 0:
        return None
    plo, _ = _sentence(bounds, lo - 1, len(folded))
    verdict = _judge(folded, (max(plo, lo - _BEFORE_CHARS), lo), start, end, weak_ok=False)
    return verdict or None


def _judge(
    folded: str, window: tuple[int, int], start: int, end: int, *, weak_ok: bool
) -> tuple[int, int] | Literal[False] | None:
    """Decide on the cues in ``window``: the deciding cue's span, None (rejected) or False (no cue at all)."""

    def nearest(pattern: re.Pattern[str]) -> tuple[int, tuple[int, int]] | None:
        best: tuple[int, tuple[int, int]] | None = None
        for m in pattern.finditer(folded, *window):
            distance = start - m.end() if m.end() <= start else max(0, m.start() - end)
            if best is None or distance < best[0]:
                best = (distance, m.span())
        return best

    strong, weak, block = nearest(_STRONG), nearest(_WEAK), nearest(_BLOCK)
    if strong is None and weak is None and block is None:
        return False
    if strong is not None and (block is None or strong[0] <= block[0]):
        return strong[1]
    if weak_ok and weak is not None and block is None:
        return weak[1]
    return None


def _phrase(original: str, lo: int, hi: int, start: int, end: int) -> str:
    """The evidence: cue to duration when it fits in one 120-character line, else the duration alone."""
    phrase = _SPACES.sub(" ", original[lo:hi]).strip()
    if len(phrase) > PHRASE_CHARS:
        phrase = _SPACES.sub(" ", original[start:end]).strip()
    return phrase[:PHRASE_CHARS]
