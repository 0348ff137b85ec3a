"""The request core: every way in (MQTT, voice, the command line) ends here.

A :class:`~appliance.messages.Request` goes in; an :class:`~appliance.messages.Outcome`
comes out. In between, in this order and only here:

1. decide: words go to the tool caller (one call or several); a call sent directly is
   validated against its tool's schema (the caller validates what the model says), so
   every call is validated exactly once;
2. confirm: a call to a tool marked ``confirm: true``, or one the caller is unsure of
   (``model.ask_below``) or made of words the recogniser doubts, is held under a token
   and asked back as a question (:mod:`appliance.asking`) until it is confirmed, declined
   or expires; this is the only place that state lives;
3. act: the dispatcher carries the calls out in order, every failure a result.

:meth:`RequestHandler.decide` and :meth:`RequestHandler.act` are separate so that the
daemon can run the model and the actions in threads of their own; :meth:`handle` does both.
Nothing here raises for a bad request: the outcome says what went wrong.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from appliance.asking import question
from appliance.errors import ApplianceError, CallError
from appliance.executors.dispatch import Dispatcher
from appliance.messages import ActionResult, Decision, Outcome, Request, ToolCall
from appliance.settings import Config
from appliance.tools import Toolbox

log = logging.getLogger(__name__)

MAX_PENDING = 64  # unconfirmed calls kept at once; the oldest goes first


class Decider(Protocol):
    """Words in, a decision out (:class:`~appliance.caller.ToolCaller`)."""

    def decide(self, text: str) -> Decision: ...


@dataclass(frozen=True)
class Pending:
    """A call waiting for confirmation, and the request it answers."""

    request_id: str
    text: str
    call: ToolCall
    expires: float


class RequestHandler:
    """Decides, confirms and acts; thread-safe."""

    def __init__(self, toolbox: Toolbox, dispatcher: Dispatcher, caller: Decider | None, *,
                 confirm_timeout_s: float = 30.0, ask_below: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.toolbox = toolbox
        self.dispatcher = dispatcher
        self.caller = caller
        self.confirm_timeout_s = confirm_timeout_s
        self.ask_below = ask_below
        self._clock = clock
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Config, caller: Decider | None, *,
                    dispatcher: Dispatcher | None = None,
                    clock: Callable[[], float] = time.monotonic) -> RequestHandler:
        return cls(config.tools, dispatcher or Dispatcher.from_config(config), caller,
                   confirm_timeout_s=config.daemon.confirm_timeout_s,
                   ask_below=config.model.ask_below, clock=clock)

    # -- the stages -------------------------------------------------------------------

    def handle(self, request: Request) -> Outcome:
        """Decide and act in this thread."""
        return self.act(request, self.decide(request))

    def decide(self, request: Request) -> Decision:
        """The call for ``request`` (validated), no call, or an error; never raises."""
        t0 = time.perf_counter()
        if request.error is not None:
            return Decision(request.said, error=request.error)
        if request.call is not None:
            try:
                call = self.toolbox.validate(request.call)
            except CallError as exc:
                return Decision("", call=request.call, error=str(exc),
                                ms=(time.perf_counter() - t0) * 1000)
            return Decision("", call=call, ms=(time.perf_counter() - t0) * 1000)
        if self.caller is None:
            return Decision(request.said, error="no tool caller is loaded: send a call")
        return self.caller.decide(request.text or "")

    def act(self, request: Request, decision: Decision, *,
            starting: Callable[[], None] | None = None) -> Outcome:
        """Carry out the decision (or hold it for confirmation); never raises.

        ``starting`` runs just before an action does (the daemon journals it as running);
        if it raises, nothing is done and the outcome says why.
        """
        t0 = time.perf_counter()
        text = request.text or ""
        if decision.error is not None or decision.call is None:
            return Outcome(request.id, text, decision.call, error=decision.error,
                           ms=decision.ms, decide_ms=decision.ms, calls=decision.calls)
        calls = decision.calls
        try:
            if starting is not None:
                starting()
        except ApplianceError as exc:
            return Outcome(request.id, text, error=str(exc), ms=decision.ms,
                           decide_ms=decision.ms, calls=calls)
        # In the order said; each is confirmed (or not) on its own, and reported. Calls the
        # caller is unsure or doubtful of, or made of words the way in doubts, are all asked
        # back (a direct call has no confidence).
        unsure = request.unsure or decision.asks_back(self.ask_below)
        results = tuple(self._run(request, text, call, unsure=unsure) for call in calls)
        return Outcome(request.id, text, calls=calls, results=results,
                       ms=decision.ms + (time.perf_counter() - t0) * 1000,
                       decide_ms=decision.ms)

    def _run(self, request: Request, text: str, call: ToolCall, *,
             unsure: bool = False) -> ActionResult:
        tool = self.toolbox[call.name]
        if request.confirmed or not (tool.confirm or unsure):
            return self.dispatcher.execute(call, dry_run=request.dry_run)
        preview = self.dispatcher.execute(call, dry_run=True)
        if not preview.ok:  # never hold a call that could not be carried out
            return preview
        if request.dry_run:  # say what would be done
            return ActionResult(preview.tool, True, f"{preview.done} (after confirmation)",
                                preview.value, said=question(tool, call))
        return self._hold(request.id, text, call, preview)

    # -- confirmation -------------------------------------------------------------------

    def _hold(self, request_id: str, text: str, call: ToolCall,
              preview: ActionResult) -> ActionResult:
        token = secrets.token_hex(8)
        with self._lock:
            self._expire()
            while len(self._pending) >= MAX_PENDING:
                del self._pending[next(iter(self._pending))]
            self._pending[token] = Pending(request_id, text, call,
                                           self._clock() + self.confirm_timeout_s)
        log.info("%s waits for confirmation %s (%g s)", call, token, self.confirm_timeout_s)
        return ActionResult(call.name, False, done=f"{call}: {preview.done}",
                            pending_confirmation=token,
                            said=question(self.toolbox[call.name], call))

    def confirm(self, request_id: str | None = None, *, token: str | None = None) -> Outcome:
        """Run the held call once, unless it expired: the one under ``token`` (which must be
        ``request_id``'s when both are given), or ``request_id``'s (a way in that is the
        sender's own, such as the command line)."""
        t0 = time.perf_counter()
        with self._lock:
            self._expire()
            if token is None:
                token = next((t for t, p in self._pending.items()
                              if p.request_id == request_id), None)
            held = self._pending.get(token) if token is not None else None
            if held is not None and request_id is not None and held.request_id != request_id:
                held = None
            pending = self._pending.pop(token) if held is not None and token else None
        if pending is None:
            what = f"confirmation {token!r}" if token is not None else f"command {request_id!r}"
            return Outcome(request_id or "", "", error=f"nothing waits for {what} "
                                                       "(unknown, already used or expired)")
        result = self.dispatcher.execute(pending.call)
        return Outcome(pending.request_id, pending.text, pending.call, result,
                       ms=(time.perf_counter() - t0) * 1000)

    def decline(self, request_id: str, token: str) -> bool:
        """Drop the call held under ``token`` for ``request_id`` (the answer was no);
        whether one was held."""
        with self._lock:
            held = self._pending.get(token)
            if held is None or held.request_id != request_id:
                return False
            del self._pending[token]
        log.info("%s declined (%s)", held.call, token)
        return True

    def waiting(self) -> int:
        """How many calls wait for confirmation (expired ones are dropped first)."""
        with self._lock:
            self._expire()
            return len(self._pending)

    def _expire(self) -> None:
        now = self._clock()
        for token in [t for t, p in self._pending.items() if p.expires <= now]:
            log.info("confirmation %s for %s expired", token, self._pending[token].call)
            del self._pending[token]

    def close(self) -> None:
        """Close the executors; calls still waiting for confirmation are dropped."""
        with self._lock:
            self._pending.clear()
        self.dispatcher.close()
