"""Typed definitions of a workspace: targets, personas, probe scripts, suites, and the settings that bind them.

Every model is validated by pydantic v2 with ``extra="forbid"`` so that a misspelt key is an error that names
the key, not a silently ignored setting.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from replybench.timefmt import parse_duration

_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
_ADDRESS = re.compile(r"^[^@\s<>\"]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$|^[^@\s<>\"]+@localhost$")

Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(lambda d: d.total_seconds(), return_type=float),
]
Identifier = Annotated[str, Field(pattern=_ID, description="lower-case letters, digits, '-', '_' or '.'")]


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r} (expected e.g. 'Europe/Berlin')") from exc
    return value


def _check_address(value: str) -> str:
    value = value.strip()
    if not _ADDRESS.match(value):
        raise ValueError(f"expected an email address like 'support@example.com', got {value!r}")
    return value


TimeZoneName = Annotated[str, BeforeValidator(_check_timezone)]
EmailAddress = Annotated[str, BeforeValidator(_check_address)]


class Strict(BaseModel):
    """Base of every workspace model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ProbeState(StrEnum):
    """Lifecycle of one probe (design §3): planned → sending → sent → closed, or a terminal alternative.

    ``assisted``: a person is to post it (X, Facebook); ``replybench attach`` makes it ``sent``.
    """

    PLANNED = "planned"
    ASSISTED = "assisted"
    SENDING = "sending"
    SENT = "sent"
    CLOSED = "closed"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    BLOCKED = "blocked"
    SKIPPED = "skipped"


TERMINAL_STATES = frozenset(
    {ProbeState.CLOSED, ProbeState.FAILED, ProbeState.UNCERTAIN, ProbeState.BLOCKED, ProbeState.SKIPPED}
)


class MessageClass(StrEnum):
    """What an inbound message is, as decided by the classifier."""

    AUTO_ACK = "auto_ack"
    HUMAN = "human"
    BOUNCE = "bounce"
    OUT_OF_OFFICE = "out_of_office"
    DEFLECTION = "deflection"
    MARKETING = "marketing"
    OWN_COPY = "own_copy"
    UNKNOWN = "unknown"


#: Classes that are not an answer from the company at all.
NOT_A_RESPONSE = frozenset({MessageClass.BOUNCE, MessageClass.MARKETING, MessageClass.OWN_COPY})
#: Classes that answer but are not a person answering (design §5: excluded from "first human response").
NOT_HUMAN = NOT_A_RESPONSE | {MessageClass.AUTO_ACK, MessageClass.OUT_OF_OFFICE, MessageClass.UNKNOWN}
#: Classes of a person's reply: timed as the first human response (a deflection is a person's reply too).
HUMAN_CLASSES = frozenset({MessageClass.HUMAN, MessageClass.DEFLECTION})
#: A classification or match less sure than this waits for a person (``replybench review``), and the engine
#: does not act on such a match (it neither closes nor reconciles the probe).
REVIEW_THRESHOLD = 0.7


# --------------------------------------------------------------------------------------------- opening hours


def _parse_interval(text: str) -> tuple[time, time]:
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not m:
        raise ValueError(f"expected an interval like '09:00-17:30', got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
        raise ValueError(f"not a time of day in {text!r}")
    start = time(h1 % 24, m1)
    end = time(h2 % 24, m2)
    if start == end and h1 != h2:
        return start, end
    if start == end:
        raise ValueError(f"empty interval {text!r}")
    return start, end


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessHours(Strict):
    """Weekly opening hours in the target's own time zone, with public holidays and explicit closures.

    Each weekday holds intervals "HH:MM-HH:MM"; an interval whose end is before its start runs overnight into
    the next day. ``weekdays`` applies to Monday to Friday unless a day is given on its own.
    """

    weekdays: list[str] | None = None
    mon: list[str] | None = None
    tue: list[str] | None = None
    wed: list[str] | None = None
    thu: list[str] | None = None
    fri: list[str] | None = None
    sat: list[str] | None = None
    sun: list[str] | None = None
    holidays: bool = True
    subdivision: str | None = None
    closures: list[date] = Field(default_factory=list)

    @field_validator("weekdays", *WEEKDAYS)
    @classmethod
    def _intervals(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for item in value:
                _parse_interval(item)
        return value

    def weekly(self) -> dict[int, list[tuple[time, time]]]:
        """Map weekday (0 = Monday) to its opening intervals."""
        table: dict[int, list[tuple[time, time]]] = {}
        for i, day in enumerate(WEEKDAYS):
            own = getattr(self, day)
            spec = own if own is not None else (self.weekdays if i < 5 else None)
            table[i] = [_parse_interval(s) for s in (spec or [])]
        return table


DEFAULT_HOURS = BusinessHours(weekdays=["09:00-17:00"])


# --------------------------------------------------------------------------------------------- targets


class EmailEndpoint(Strict):
    """Where email inquiries to a target go."""

    address: EmailAddress


FormRole = Literal[
    "name", "first_name", "last_name", "email", "phone", "subject", "message", "topic", "consent"
]
"""What a contact-form field asks for; the web-form channel fills each role from the persona and the probe."""


class FormFields(Strict):
    """Explicit CSS selectors of a contact form's fields (any left out are found automatically)."""

    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    subject: str | None = None
    message: str | None = None
    topic: str | None = None
    consent: str | None = None


class FormEndpoint(Strict):
    """A web contact form: where it is, how its fields map (explicit selectors or automatic), how to submit.

    ``fields = "auto"`` finds every field by its label, ``name``, ``id``, placeholder, type and autocomplete
    hint, in several languages. ``steps`` lists the "next" buttons of a multi-step form in order (found
    automatically when empty). ``success_text``/``success_url`` are regular expressions that prove the
    company accepted the inquiry; without them a thank-you wording, a URL change or an HTTP 2xx answer does.
    """

    url: str = Field(pattern=r"^https?://")
    fields: FormFields | Literal["auto"] = "auto"
    extra: dict[str, str] = Field(default_factory=dict, description="CSS selector -> fixed value")
    topic: str | None = Field(default=None, description="option label or value to choose in the topic select")
    steps: list[str] = Field(default_factory=list, description="CSS selectors of 'next' buttons, in order")
    submit: str | None = Field(default=None, description="CSS selector of the submit button (else found)")
    success_text: str | None = None
    success_url: str | None = None
    timeout: Duration = Field(
        default=timedelta(seconds=30), description="how long to wait for a confirmation after the click"
    )


ChatPreset = Literal["generic"]


class ChatEndpoint(Strict):
    """A live-chat widget on a web page: selectors (or a preset) to open it, type, and read its messages.

    ``wait`` bounds how long a chat is observed after the inquiry was delivered; the probe is censored then.
    ``after_human`` is how long the transcript is still recorded once a person has answered.
    """

    url: str = Field(pattern=r"^https?://")
    preset: ChatPreset = "generic"
    frame: str | None = Field(default=None, description="CSS selector of the widget's iframe, if it has one")
    launcher: str | None = None
    input: str | None = None
    send: str | None = None
    log: str | None = Field(default=None, description="CSS selector of the element that holds the messages")
    offline: str | None = Field(default=None, description="CSS selector of a 'leave a message' form")
    wait: Duration = timedelta(minutes=15)
    after_human: Duration = timedelta(seconds=10)
    timeout: Duration = timedelta(seconds=30)


#: The social networks replybench can probe, each a channel of the same name.
SOCIAL_NETWORKS = ("mastodon", "bluesky", "x", "facebook")
#: Networks whose probes a person posts by default (their rules forbid or bill automated posting).
ASSISTED_BY_DEFAULT = frozenset({"x", "facebook"})

EnvName = Annotated[
    str,
    Field(pattern=r"^[A-Z_][A-Z0-9_]*$", description="the NAME of an environment variable, never its value"),
]


class SocialEndpoint(Strict):
    """A target's account on one social network.

    ``account`` is the handle a probe mentions or messages (``acme@mastodon.social``, ``acme.bsky.social``,
    ``acme`` on X, the Page's id or user name on Facebook; a leading ``@`` is allowed). Replies from ``also``
    (other accounts of the same company, e.g. a separate help account) count as the company's. ``how`` is a
    public mention or a direct/private message where the network allows one. ``url`` is the profile or Page
    a person opens in assisted mode.
    """

    account: str = Field(min_length=1, max_length=320, pattern=r"^@?[^\s@]+(@[^\s@]+)?$")
    also: list[Annotated[str, Field(min_length=1, max_length=320, pattern=r"^@?[^\s@]+(@[^\s@]+)?$")]] = (
        Field(default_factory=list)
    )
    how: Literal["mention", "direct"] = "mention"
    url: str | None = Field(default=None, pattern=r"^https?://")


class Endpoints(Strict):
    """A target's endpoints per channel: email, web contact form, live chat, and social accounts."""

    email: EmailEndpoint | None = None
    form: FormEndpoint | None = None
    chat: ChatEndpoint | None = None
    mastodon: SocialEndpoint | None = None
    bluesky: SocialEndpoint | None = None
    x: SocialEndpoint | None = None
    facebook: SocialEndpoint | None = None

    @model_validator(mode="after")
    def _bluesky_has_no_direct(self) -> Endpoints:
        if self.bluesky is not None and self.bluesky.how == "direct":
            raise ValueError("bluesky.how: direct messages are not supported on Bluesky; use how = 'mention'")
        return self


class RateLimit(Strict):
    """Politeness limits for one target: a minimum gap between two sends and a daily cap."""

    min_interval: Duration = timedelta(seconds=0)
    max_per_day: int | None = Field(default=None, ge=1)


SandboxProfile = Literal["fast", "slow", "ack_only", "business_hours", "bounce", "never", "out_of_office"]

SandboxForm = Literal["labels", "placeholders", "multistep", "honeypot", "captcha", "login", "validation"]
"""The markup of a sandbox company's contact form: labelled fields; placeholders only (German); two steps;
a hidden honeypot field; a CAPTCHA frame; behind a login wall; a field the filler cannot know (validation)."""

SandboxChat = Literal["live", "business_hours", "offline", "bot_only", "silent"]
"""A sandbox company's chat widget: a bot greets and a person answers (always, or in opening hours only,
else "leave a message"); always "leave a message"; only the bot; or a widget that never says anything."""


class SandboxBehaviour(Strict):
    """How a simulated company of the sandbox answers (used only when the workspace runs in sandbox mode).

    ``profile`` picks a preset; the other fields override it. Human reply delays are log-normal with the
    given median and sigma (heavy-tailed, like real help desks).

    ``human_style`` is how a person answers: ``answer`` (default), ``holding`` (first "we will get back to
    you", then the answer later in the same ticket, from another mailbox and without the probe's token) or
    ``deflect`` (only "please call us"). ``promise`` is the response time the acknowledgement states ("within
    2 business days"; ``"as soon as possible"`` states none); unset, each company has its own.
    """

    profile: SandboxProfile = "fast"
    ack: bool | None = None
    ack_delay: Duration | None = None
    human_probability: float | None = Field(default=None, ge=0, le=1)
    human_median: Duration | None = None
    human_sigma: float | None = Field(default=None, ge=0, le=5)
    business_hours_only: bool | None = None
    bounce: bool | None = None
    out_of_office: bool | None = None
    human_style: Literal["answer", "holding", "deflect"] | None = None
    promise: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\r\n]*$")
    form: SandboxForm = "labels"
    chat: SandboxChat = "live"
    chat_human_median: Duration | None = None


class Target(Strict):
    """A company whose customer service is measured."""

    id: Identifier
    name: str = Field(min_length=1)
    industry: str = "unspecified"
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    timezone: TimeZoneName = "UTC"
    hours: BusinessHours = DEFAULT_HOURS
    endpoints: Endpoints = Endpoints()
    do_not_contact: bool = False
    rate_limit: RateLimit | None = None
    sandbox: SandboxBehaviour | None = None

    @property
    def tz(self) -> ZoneInfo:
        """The target's time zone."""
        return ZoneInfo(self.timezone)

    def channels(self) -> list[str]:
        """Channels this target has an endpoint for."""
        return [name for name, value in self.endpoints if value is not None]

    def address(self, channel: str) -> str:
        """Where a probe on ``channel`` goes: the email address or the page URL ("" when there is none)."""
        endpoint = getattr(self.endpoints, channel, None)
        if isinstance(endpoint, EmailEndpoint):
            return endpoint.address
        if isinstance(endpoint, FormEndpoint | ChatEndpoint):
            return endpoint.url
        if isinstance(endpoint, SocialEndpoint):
            return endpoint.account.lstrip("@")
        return ""


# --------------------------------------------------------------------------------------------- personas


class EmailIdentity(Strict):
    """A persona's mailbox. Replies come to ``local+TOKEN@domain`` so each reply names its probe."""

    address: EmailAddress
    token_in_from: bool = True

    @property
    def local(self) -> str:
        """Local part (before '@')."""
        return self.address.rsplit("@", 1)[0]

    @property
    def domain(self) -> str:
        """Domain part (after '@'), lower-cased."""
        return self.address.rsplit("@", 1)[1].lower()


#: The API each network's identity talks to when ``server`` is not given (Mastodon has no default).
DEFAULT_SERVERS = {
    "bluesky": "https://bsky.social",
    "x": "https://api.x.com",
    "facebook": "https://graph.facebook.com/v21.0",
}


class SocialIdentity(Strict):
    """A persona's account on one social network; its secret is named by environment variable only.

    ``server`` is the API the account lives on: the Mastodon instance (required), the Bluesky PDS, the X API
    or the Graph API (defaults in :data:`DEFAULT_SERVERS`). ``token_env`` names the variable holding the
    access token (Mastodon, X, Facebook) or app password (Bluesky). ``mode`` is ``automatic`` (replybench
    posts) or ``assisted`` (a person posts and runs ``replybench attach``); X and Facebook default to
    assisted, and Facebook cannot be automatic (the Graph API cannot post as a person to a Page).
    """

    account: str = Field(min_length=1, max_length=320, pattern=r"^@?[^\s@]+(@[^\s@]+)?$")
    server: str | None = Field(default=None, pattern=r"^https?://")
    token_env: EnvName | None = None
    mode: Literal["automatic", "assisted"] | None = None


class Persona(Strict):
    """Who asks: a name, a language, a mailbox, and accounts on social networks."""

    id: Identifier
    display_name: str = Field(min_length=1)
    first_name: str | None = None
    language: str = "en"
    locale: str | None = Field(default=None, description="browser locale, e.g. 'de-DE' (default: language)")
    timezone: TimeZoneName = "UTC"
    phone: str | None = None
    email: EmailIdentity | None = None
    mastodon: SocialIdentity | None = None
    bluesky: SocialIdentity | None = None
    x: SocialIdentity | None = None
    facebook: SocialIdentity | None = None

    @model_validator(mode="after")
    def _social_identities(self) -> Persona:
        if self.mastodon is not None and self.mastodon.server is None:
            raise ValueError("mastodon.server: the persona's Mastodon instance URL is required")
        if self.facebook is not None and self.facebook.mode == "automatic":
            raise ValueError(
                "facebook.mode: the Graph API cannot post as a person to a company's Page; use 'assisted'"
            )
        for network in ("mastodon", "bluesky"):
            identity = getattr(self, network)
            if identity is not None and identity.mode == "assisted":
                raise ValueError(f"{network}.mode: {network} probes are posted by replybench; remove mode")
        return self

    def social(self, network: str) -> SocialIdentity | None:
        """The persona's account on ``network`` (None when it has none)."""
        identity = getattr(self, network, None)
        return identity if isinstance(identity, SocialIdentity) else None

    def social_mode(self, network: str) -> Literal["automatic", "assisted"]:
        """Whether this persona's probes on ``network`` are posted by replybench or by a person."""
        identity = self.social(network)
        if identity is not None and identity.mode is not None:
            return identity.mode
        return "assisted" if network in ASSISTED_BY_DEFAULT else "automatic"

    def social_server(self, network: str) -> str:
        """The API base URL of the persona's account on ``network``."""
        identity = self.social(network)
        server = identity.server if identity is not None else None
        return (server or DEFAULT_SERVERS.get(network, "")).rstrip("/")

    @property
    def browser_locale(self) -> str:
        """The locale a browser presents for this persona (``locale``, else the language)."""
        return self.locale or self.language

    @property
    def family_name(self) -> str:
        """Last name for forms that ask for it (the display name's last word)."""
        words = self.display_name.split()
        return words[-1] if len(words) > 1 else ""

    @property
    def given_name(self) -> str:
        """First name for templates (defaults to the first word of the display name)."""
        return self.first_name or self.display_name.split()[0]


# --------------------------------------------------------------------------------------------- scripts


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc}): {value!r}") from exc
    return value


Regex = Annotated[str, AfterValidator(_check_regex)]


class RubricPoint(Strict):
    """One point a reply should (or must not) make, found by any of its phrases or regular expressions.

    Phrases match case-insensitively as whole words with any run of white space between words; regular
    expressions are Python ``re`` patterns searched as written (add ``(?i)`` for case-insensitivity).
    """

    point: str = Field(min_length=1, description="a short label people read in reports")
    phrases: list[str] = Field(default_factory=list)
    regex: list[Regex] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something_to_find(self) -> RubricPoint:
        if not self.phrases and not self.regex:
            raise ValueError(f"point {self.point!r} needs at least one of 'phrases' or 'regex'")
        return self


def _point_from_regex(value: object) -> object:
    """A bare string in a rubric list is a regular expression (the original, short form)."""
    if isinstance(value, str):
        return {"point": value, "regex": [value]}
    return value


Point = Annotated[RubricPoint, BeforeValidator(_point_from_regex)]


class Rubric(Strict):
    """What a complete answer contains, what makes it better, and what must not be in it.

    ``required`` and ``optional`` points and ``forbidden`` ones (deflections such as "call us") are each a
    regular expression or a point table; ``personal`` says whether an answer should use the persona's name.
    """

    required: list[Point] = Field(default_factory=list)
    optional: list[Point] = Field(default_factory=list)
    forbidden: list[Point] = Field(default_factory=list)
    personal: bool = True

    @property
    def empty(self) -> bool:
        """True when the rubric names no point at all (a reply cannot be scored against it)."""
        return not (self.required or self.optional or self.forbidden)


class ProbeScript(Strict):
    """A scripted inquiry: Jinja2 templates for subject and body, the channels it fits, and its rubric."""

    id: Identifier
    title: str | None = None
    channels: list[str] = Field(default_factory=lambda: ["email"], min_length=1)
    category: Literal["pre-sales", "support", "complaint", "other"] = "support"
    language: str = "en"
    subject: str = Field(min_length=1)
    body: str = Field(min_length=1)
    rubric: Rubric = Rubric()


# --------------------------------------------------------------------------------------------- suites


class Schedule(Strict):
    """When probes are sent: a window from ``start``, spread at random (deterministic for ``seed``)."""

    start: datetime | Literal["now"] = "now"
    window: Duration = timedelta(hours=0)
    business_hours: bool = False
    spacing: Duration = timedelta(seconds=0)
    repeats: int = Field(default=1, ge=1, le=1000)
    seed: int = 0

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime | str) -> datetime | str:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("give the start with a time zone offset, e.g. 2026-12-01T09:00:00+01:00")
        return value


class Wait(Strict):
    """How long to wait for answers (the censoring horizon) and when a probe may close early."""

    limit: Duration = timedelta(days=7)
    until: Literal["human", "horizon"] = "human"

    @field_validator("limit")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("the wait limit must be positive")
        return value


class SLA(Strict):
    """A service-level objective: answered by a human (or at all) within a time, on a channel."""

    channel: str = "email"
    within: Duration
    measure: Literal["human", "any"] = "human"
    business_time: bool = False
    target_rate: float = Field(default=0.9, gt=0, le=1)


class Suite(Strict):
    """A benchmark suite: which targets get which scripts, through which channels and personas, and when."""

    id: Identifier
    name: str | None = None
    description: str | None = None
    targets: list[str] = Field(min_length=1)
    scripts: list[str] = Field(min_length=1)
    channels: list[str] = Field(default_factory=lambda: ["email"], min_length=1)
    personas: list[str] = Field(min_length=1)
    schedule: Schedule = Schedule()
    wait: Wait = Wait()
    slas: list[SLA] = Field(default_factory=list)
    rate_limit: RateLimit = RateLimit()


# --------------------------------------------------------------------------------------------- settings


class SmtpOutbound(Strict):
    """The submission server that sends probes (credentials by environment-variable name only)."""

    host: str = "127.0.0.1"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    username_env: str | None = None
    password_env: str | None = None
    timeout: Duration = timedelta(seconds=60)
    connections: int = Field(default=4, ge=1, le=64)
    sent_copy: bool = True


class SmtpInbound(Strict):
    """The built-in inbound SMTP server for a dedicated probe domain (receipt time to the millisecond)."""

    host: str = "127.0.0.1"
    port: int = Field(default=2525, ge=0, le=65535)


class ImapInbound(Strict):
    """An IMAP mailbox watched with IDLE (received_at = INTERNALDATE, whole seconds)."""

    host: str
    port: int = Field(default=993, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "tls"
    username_env: str
    password_env: str
    mailbox: str = "INBOX"
    idle_renew: Duration = timedelta(minutes=29)


class EmailSettings(Strict):
    """How email probes leave and how replies come back."""

    outbound: SmtpOutbound = SmtpOutbound()
    listener: Literal["smtp", "imap"] = "smtp"
    smtp: SmtpInbound = SmtpInbound()
    imap: ImapInbound | None = None

    @model_validator(mode="after")
    def _imap_needs_settings(self) -> EmailSettings:
        if self.listener == "imap" and self.imap is None:
            raise ValueError(
                "listener = 'imap' needs an [email.imap] table with host, username_env, password_env"
            )
        return self


class BrowserSettings(Strict):
    """The headless Chromium that fills forms and talks to chat widgets.

    ``executable`` overrides the search (``REPLYBENCH_CHROMIUM``, Debian's ``/usr/bin/chromium``, PATH, then
    Playwright's own). ``contexts`` bounds the browser contexts open at once (each probe gets a fresh one);
    ``chat_sessions`` bounds how many chats are watched at once (each holds a context while it waits).
    """

    executable: str | None = None
    contexts: int = Field(default=4, ge=1, le=64)
    chat_sessions: int = Field(default=2, ge=1, le=64)
    screenshots: bool = True


class SocialSettings(Strict):
    """How social channels watch for replies.

    ``poll_interval``: how often a network without a stream (X, Facebook, Bluesky), or Mastodon while its
    stream is down, is asked for new replies. X bills reads: keep it at a minute or more in live mode.
    """

    poll_interval: Duration = timedelta(seconds=60)


class Settings(Strict):
    """The workspace's own settings (``replybench.toml``)."""

    name: str = "replybench workspace"
    mode: Literal["sandbox", "live"] = "sandbox"
    store: str = ".replybench/replybench.sqlite3"
    reports_dir: str = ".replybench/reports"
    probes: str = "probes"
    benchmarks: str = "benchmarks"
    reports: str = "reports"
    do_not_contact: list[str] = Field(default_factory=list)
    reconcile_grace: Duration = timedelta(seconds=10)
    email: EmailSettings = EmailSettings()
    browser: BrowserSettings = BrowserSettings()
    social: SocialSettings = SocialSettings()


class Workspace(BaseModel):
    """A loaded, validated workspace: its folder, settings, and every definition by id."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    root: Path
    settings: Settings
    targets: dict[str, Target]
    personas: dict[str, Persona]
    scripts: dict[str, ProbeScript]
    suites: dict[str, Suite]
    sources: dict[str, Any] = Field(default_factory=dict)

    def path(self, relative: str) -> Path:
        """Resolve a path from the settings against the workspace root."""
        p = Path(relative)
        return p if p.is_absolute() else self.root / p
