"""Run a suite to completion: schedule due probes, send each at most once, listen, reconcile, close.

One asyncio process runs the dispatcher and the listeners beside it. A run is resumable: running the suite
again continues its open run. A probe is committed as ``sending`` before its channel acts; a probe found in
``sending`` at start-up belonged to an interrupted process and is reconciled, never re-sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from replybench.channels.base import Channel, OutboundProbe, PacedChannel, ReconcilingChannel
from replybench.channels.social import assisted_instructions
from replybench.engine.ingest import Ingestor, reconcile_sending
from replybench.engine.runs import create_run, run_persona
from replybench.errors import ReplybenchError, SendBlocked, SendFailed, SendUncertain, UnknownSuiteError
from replybench.models import SOCIAL_NETWORKS, TERMINAL_STATES, ProbeState, Target, Workspace
from replybench.plan import do_not_contact_reason
from replybench.store import ProbeRecord, RunRecord, Store
from replybench.timefmt import utcnow

log = logging.getLogger(__name__)

ACTIVE_STATES = (ProbeState.PLANNED, ProbeState.SENDING, ProbeState.SENT)


def content_type_for(name: str) -> str:
    """The media type of an artifact by its file name (``application/octet-stream`` when unknown)."""
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


@dataclass(frozen=True)
class RunProgress:
    """A snapshot of a run's progress, for progress bars."""

    run_id: str
    total: int
    counts: Mapping[ProbeState, int]
    received: int

    @property
    def done(self) -> int:
        """Probes in a terminal state."""
        return sum(n for s, n in self.counts.items() if s in TERMINAL_STATES)

    @property
    def sent(self) -> int:
        """Probes that reached the company (sent, or closed after being sent)."""
        return self.counts.get(ProbeState.SENT, 0) + self.counts.get(ProbeState.CLOSED, 0)


@dataclass
class RunOptions:
    """How a run behaves."""

    new: bool = False
    tick: float = 0.2
    progress: Callable[[RunProgress], None] | None = None
    drain_timeout: float = 60.0
    stop: asyncio.Event = field(default_factory=asyncio.Event)


class _RateGate:
    """Per-target politeness: minimum interval between sends and a cap per rolling day."""

    def __init__(self, suite_min: timedelta):
        self._suite_min = suite_min
        self._history: dict[str, deque[datetime]] = defaultdict(deque)

    def seed(self, probes: list[ProbeRecord]) -> None:
        """Remember the send attempts of earlier processes (a resumed run keeps its limits)."""
        for p in sorted(probes, key=lambda p: p.attempt_at or p.due_at):
            if p.attempt_at is not None:
                self._history[p.target_id].append(p.attempt_at)

    def next_allowed(self, target: Target, now: datetime) -> datetime:
        """Now, or the earliest time the next send to ``target`` is allowed."""
        history = self._history[target.id]
        limit = target.rate_limit
        gap = max(self._suite_min, limit.min_interval if limit else timedelta(0))
        earliest = now
        if history:
            earliest = max(earliest, history[-1] + gap)
        if limit and limit.max_per_day:
            while history and history[0] <= now - timedelta(days=1):
                history.popleft()
            if len(history) >= limit.max_per_day:
                earliest = max(earliest, history[-limit.max_per_day] + timedelta(days=1))
        return earliest

    def record(self, target_id: str, at: datetime) -> None:
        """Count a send to ``target_id`` at ``at``."""
        self._history[target_id].append(at)


class Engine:
    """Runs suites of one workspace against a set of channels, writing everything to the store."""

    def __init__(
        self,
        ws: Workspace,
        store: Store,
        channels: Mapping[str, Channel],
        *,
        unavailable: Mapping[str, str] | None = None,
    ):
        self.ws = ws
        self.store = store
        self.channels = dict(channels)
        self.unavailable = dict(unavailable or {})
        self._limits: dict[str, tuple[timedelta, str]] = {}
        self.ingestor = Ingestor(store, wait_limits=self._wait_limits)
        self._stopping = False
        self._claimed: set[str] = set()

    def _wait_limits(self, run_id: str) -> tuple[timedelta, str] | None:
        if run_id not in self._limits:
            run = self.store.get_run(run_id)
            if run is None:
                return None
            self._limits[run_id] = (timedelta(seconds=run.wait_limit_s), run.until)
        return self._limits[run_id]

    def start_or_resume(self, suite_id: str, *, new: bool = False) -> tuple[RunRecord, bool]:
        """The open run of the suite (resumed), or a new one. Returns (run, created)."""
        if suite_id not in self.ws.suites:
            known = ", ".join(sorted(self.ws.suites)) or "none"
            raise UnknownSuiteError(f"no suite {suite_id!r} in this workspace (suites: {known})")
        if not new:
            existing = self.store.open_run(suite_id)
            if existing is not None:
                return existing, False
        return create_run(self.ws, self.ws.suites[suite_id], self.store, utcnow()), True

    async def run(self, suite_id: str, options: RunOptions | None = None) -> RunRecord:
        """Run (or resume) a suite until every probe is in a terminal state, or until stopped."""
        options = options or RunOptions()
        run, _created = self.start_or_resume(suite_id, new=options.new)
        self.store.log_event("engine_started", run_id=run.id)
        listeners = [
            asyncio.create_task(ch.listen(self.ingestor.accept), name=f"listen-{n}")
            for n, ch in self.channels.items()
        ]
        try:
            leftovers = self.ingestor.process_leftovers()
            if leftovers:
                log.warning("processed %d message(s) stored by an interrupted run", leftovers)
            await asyncio.sleep(0.05)  # let listeners bind before anything can answer
            self._raise_listener_errors(listeners)
            await self._recover(run, options)
            await self._loop(run, options, listeners)
        finally:
            for task in listeners:
                task.cancel()
            for task in listeners:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            with contextlib.suppress(Exception):
                await self.ingestor.drain()
            for ch in self.channels.values():
                with contextlib.suppress(Exception):
                    await ch.aclose()
        counts = self.store.state_counts(run.id)
        # A probe waiting for a person to post it keeps its run open: `attach` and a later run continue it.
        if not any(counts.get(s, 0) for s in (*ACTIVE_STATES, ProbeState.ASSISTED)):
            self.store.finish_run(run.id, utcnow())
        else:
            self.store.log_event(
                "engine_stopped", run_id=run.id, detail={s.value: n for s, n in counts.items()}
            )
        return self.store.get_run(run.id) or run

    @staticmethod
    def _raise_listener_errors(listeners: list[asyncio.Task[None]]) -> None:
        for task in listeners:
            if task.done() and not task.cancelled() and task.exception() is not None:
                exc = task.exception()
                if isinstance(exc, ReplybenchError):
                    raise exc
                raise ReplybenchError(f"a listener failed: {exc}") from exc

    async def _recover(self, run: RunRecord, options: RunOptions) -> None:
        leftovers = self.store.probes(run.id, [ProbeState.SENDING])
        if not leftovers:
            return
        grace = self.ws.settings.reconcile_grace.total_seconds()
        log.warning(
            "%d probe(s) were interrupted while sending; waiting %.0f s for proof before reconciling",
            len(leftovers),
            grace,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(options.stop.wait(), timeout=grace)
        await self._find_sent(run, leftovers)
        counts = reconcile_sending(self.store, run.id, timedelta(seconds=run.wait_limit_s), utcnow())
        log.warning(
            "reconciled interrupted probes: %d proven sent, %d uncertain", counts["sent"], counts["uncertain"]
        )

    async def _find_sent(self, run: RunRecord, leftovers: list[ProbeRecord]) -> None:
        """Ask channels that can look (social networks) whether an interrupted probe was posted after all."""
        for probe in leftovers:
            channel = self.channels.get(probe.channel)
            if not isinstance(channel, ReconcilingChannel) or probe.attempt_at is None:
                continue
            target = self._target(run, probe.target_id)
            try:
                receipt = await channel.find_sent(self._outbound(run, probe, target), probe.attempt_at)
            except Exception as exc:
                log.warning("could not look for interrupted probe %s on %s: %s", probe.id, probe.channel, exc)
                continue
            if receipt is None:
                continue
            claimed = receipt.external_id and self.store.probe_by_external_id(receipt.external_id)
            if claimed:
                log.warning(
                    "post %s found for probe %s is already %s's", receipt.external_id, probe.id, claimed.id
                )
            else:
                self.store.mark_sent(probe.id, receipt, receipt.sent_at + timedelta(seconds=run.wait_limit_s))
                self.store.log_event(
                    "reconciled",
                    run_id=run.id,
                    probe_id=probe.id,
                    detail={"how": f"found our post on {probe.channel}", "external_id": receipt.external_id},
                )

    def _progress(self, run: RunRecord, options: RunOptions) -> dict[ProbeState, int]:
        counts = self.store.state_counts(run.id)
        if options.progress:
            options.progress(RunProgress(run.id, sum(counts.values()), counts, self.ingestor.received))
        return counts

    async def _loop(self, run: RunRecord, options: RunOptions, listeners: list[asyncio.Task[None]]) -> None:
        suite_snapshot = run.snapshot.get("suite", {})
        suite_min = timedelta(seconds=float(suite_snapshot.get("rate_limit", {}).get("min_interval", 0) or 0))
        gate = _RateGate(suite_min)
        gate.seed(self.store.probes(run.id))
        wait_limit = timedelta(seconds=run.wait_limit_s)
        # Each channel gets as many workers as it can send at once (SMTP connections, browser contexts, chat
        # sessions); a free worker claims its channel's next due probe at once.
        workers = [
            asyncio.create_task(self._worker(run, name, gate, wait_limit, options), name=f"send-{name}-{i}")
            for name, channel in self.channels.items()
            for i in range(max(1, channel.describe().concurrency))
        ]
        try:
            while True:
                self._raise_listener_errors(listeners)
                for task in workers:
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
                now = utcnow()
                self._skip_unavailable(run, now)
                for probe in self.store.expired_probes(run.id, now):
                    self.store.close_probe(probe.id, now, "horizon reached")
                self._stopping = options.stop.is_set()
                counts = self._progress(run, options)
                if self._stopping or not any(counts.get(s, 0) for s in ACTIVE_STATES):
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(options.stop.wait(), timeout=options.tick)
            self._stopping = True
            # Let sends already talking to a server finish: cancelling one mid-DATA would leave it uncertain.
            await asyncio.wait(workers, timeout=options.drain_timeout)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        self._progress(run, options)

    def _skip_unavailable(self, run: RunRecord, now: datetime) -> None:
        """Due probes of a channel this run cannot use are skipped (no worker would ever claim them)."""
        available = set(self.channels)
        while True:
            due = [p for p in self.store.due_probes(run.id, now, 100) if p.channel not in available]
            if not due:
                return
            for probe in due:
                why = self.unavailable.get(probe.channel)
                self.store.mark_skipped(
                    probe.id,
                    f"channel {probe.channel!r} is not available in this run" + (f": {why}" if why else ""),
                )

    async def _worker(
        self, run: RunRecord, channel_name: str, gate: _RateGate, wait_limit: timedelta, options: RunOptions
    ) -> None:
        channel = self.channels[channel_name]
        paced = channel if isinstance(channel, PacedChannel) else None
        peers = max(1, channel.describe().concurrency)
        while not self._stopping:
            if paced is not None and not paced.ready():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(options.stop.wait(), timeout=options.tick)
                continue
            now = utcnow()
            due = self.store.due_probes(run.id, now, peers, [channel_name])
            probe = next((p for p in due if p.id not in self._claimed), None)
            if probe is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(options.stop.wait(), timeout=options.tick)
                continue
            # No await between the query and the claim: workers share one thread, so no two take one probe.
            self._claimed.add(probe.id)
            target = self._target(run, probe.target_id)
            allowed = gate.next_allowed(target, now)
            if allowed > now:
                self.store.postpone(probe.id, allowed)
                self._claimed.discard(probe.id)
                continue
            gate.record(target.id, now)
            try:
                await self._dispatch(run, channel, probe, target, wait_limit)
            finally:
                self._claimed.discard(probe.id)  # no longer planned: the query will not return it again

    def _target(self, run: RunRecord, target_id: str) -> Target:
        snap = run.snapshot.get("targets", {}).get(target_id)
        if target_id in self.ws.targets:
            return self.ws.targets[target_id]
        return Target.model_validate(snap)

    async def _dispatch(
        self, run: RunRecord, channel: Channel, probe: ProbeRecord, target: Target, wait_limit: timedelta
    ) -> None:
        """Send one probe at most once: commit `sending`, act, record what the channel proved."""
        reason = do_not_contact_reason(target, probe.channel, self.ws.settings.do_not_contact)
        if reason:
            self.store.mark_skipped(probe.id, reason)
            return
        outbound = self._outbound(run, probe, target)
        if probe.channel in SOCIAL_NETWORKS and outbound.persona.social_mode(probe.channel) == "assisted":
            self._hand_to_person(outbound, probe.channel)
            return
        if not self.store.mark_sending(probe.id, utcnow()):
            return
        try:
            receipt = await channel.send(outbound)
        except (SendFailed, SendBlocked, SendUncertain) as exc:
            self._keep_artifacts(probe.id, exc.artifacts)
            reason = str(exc) or type(exc).__name__
            if isinstance(exc, SendFailed):
                self.store.mark_failed(probe.id, reason, exc.evidence)
            elif isinstance(exc, SendBlocked):
                self.store.mark_blocked(probe.id, reason, exc.evidence)
            else:
                self.store.mark_uncertain(probe.id, reason, exc.evidence)
        except asyncio.CancelledError:
            self.store.mark_uncertain(probe.id, "cancelled while sending")
            raise
        except Exception as exc:
            log.exception("unexpected error while sending probe %s", probe.id)
            self.store.mark_uncertain(probe.id, f"unexpected error while sending: {exc}")
        else:
            self._keep_artifacts(probe.id, receipt.artifacts)
            horizon = min(wait_limit, receipt.horizon) if receipt.horizon is not None else wait_limit
            self.store.mark_sent(probe.id, receipt, receipt.sent_at + horizon)

    def _outbound(self, run: RunRecord, probe: ProbeRecord, target: Target) -> OutboundProbe:
        return OutboundProbe(
            probe_id=probe.id,
            token=probe.token,
            target=target,
            persona=run_persona(self.ws, run, probe.persona_id),
            subject=probe.subject,
            body=probe.body,
            message_id=probe.message_id,
            reply_address=probe.reply_address,
        )

    def _hand_to_person(self, outbound: OutboundProbe, network: str) -> None:
        """Assisted mode: the probe waits, with the text to post and where, for a person to post and attach it."""
        try:
            instructions = assisted_instructions(outbound, network)
        except SendFailed as exc:
            self.store.mark_skipped(outbound.probe_id, str(exc))
            return
        if self.store.mark_assisted(outbound.probe_id, instructions):
            log.info(
                "probe %s waits for a person to post it on %s", outbound.probe_id, instructions["network"]
            )

    def _keep_artifacts(self, probe_id: str, artifacts: Mapping[str, bytes]) -> None:
        """Store a send's screenshots and the like; losing one must never change the probe's state."""
        for name, data in artifacts.items():
            try:
                self.store.put_artifact(probe_id, name, content_type_for(name), data)
            except Exception:
                log.exception("could not store artifact %s of probe %s", name, probe_id)
