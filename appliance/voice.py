"""The voice way in: microphone, push-to-talk button, status LED, the sound that answers.

It sits beside the MQTT way in: what the pipeline (:mod:`appliance.speech`, audio to
words) hears as a command becomes a typed :class:`~appliance.messages.Request` for the
request core, and its :class:`~appliance.messages.Outcome` picks the answer (a beep, or
the words spoken). :class:`MicrophoneLoop` runs in its own thread (or in the foreground
for ``appliance listen``); a device that is missing or disappears is logged and retried
with backoff, so the loop never ends on an audio error. :func:`attach` wires it into the
daemon: requests go to the daemon's runner (journaled, like MQTT commands), and MQTT's
"listen now" arms the pipeline. The button and LED use the process's one pin factory.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import shutil
import subprocess
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from appliance.asking import Answering, OpenQuestion, together
from appliance.daemon.commands import new_id
from appliance.daemon.service import Service
from appliance.errors import ApplianceError, AudioError
from appliance.executors.pins import SharedPins
from appliance.messages import Outcome, Request
from appliance.settings import Config
from appliance.speech.audio import Microphone, WavReplay, _sounddevice, open_input
from appliance.speech.heard import Heard
from appliance.speech.pipeline import VoicePipeline, completes_call, make_recognizer
from appliance.speech.settings import SpeechSettings

log = logging.getLogger(__name__)


class StatusLight:
    """The status LED: steady while listening for a command, blinking while thinking."""

    def __init__(self, pin: int | str | None, factory: Any) -> None:
        self._led: Any = None
        if pin is not None:
            from gpiozero import LED

            try:
                self._led = LED(pin, pin_factory=factory)
            except Exception as exc:  # gpiozero's errors: pin in use, invalid
                log.error("speech: status LED on pin %s unusable: %s", pin, exc)

    def listening(self) -> None:
        if self._led is not None:
            self._led.on()

    def thinking(self) -> None:
        if self._led is not None:
            self._led.blink(on_time=0.1, off_time=0.1, background=True)

    def idle(self) -> None:
        if self._led is not None:
            self._led.off()

    def close(self) -> None:
        if self._led is not None:
            self._led.close()


class MicrophoneLoop:
    """Frames from the microphone through the pipeline; each utterance to ``on_heard``.

    A held call comes back as a question (spoken with ``confirm: speak``): the pipeline
    then listens without the wake word for ``wake_timeout_s``, and a yes or no is carried
    out by ``answering``; anything else drops the question and is a command of its own."""

    def __init__(self, settings: SpeechSettings, pipeline: VoicePipeline,
                 on_heard: Callable[[Heard], Outcome | None], *,
                 answering: Answering | None = None,
                 pin_factory: Any = None) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.on_heard = on_heard
        self.answering = answering
        self.question = OpenQuestion(settings.wake_timeout_s, lambda: pipeline.now_s)
        self._stop = threading.Event()
        self._mic: Microphone | WavReplay | None = None
        self.light = StatusLight(settings.led_pin, pin_factory)
        self._button: Any = None
        if settings.button_pin is not None:
            from gpiozero import Button

            try:
                self._button = Button(settings.button_pin, pin_factory=pin_factory)
                self._button.when_pressed = self.listen_now
            except Exception as exc:
                log.error("speech: push-to-talk button on pin %s unusable: %s",
                          settings.button_pin, exc)

    def listen_now(self) -> None:
        """Take the next utterance as a command (button, MQTT "listen" request)."""
        self.pipeline.arm()
        self.light.listening()
        log.info("speech: listening for a command")

    def stop(self) -> None:
        self._stop.set()

    def run_forever(self, *, fail_fast: bool = False) -> None:
        """Listen until :meth:`stop`; with ``fail_fast`` a device that cannot open is raised."""
        backoff = 1.0
        opened = False
        while not self._stop.is_set():
            mic = open_input(self.settings.input_device)
            try:
                mic.open()
                opened = True
                self._mic = mic
                self.pipeline.reset()
                self.question.close()
                backoff = 1.0
                for frame in mic.frames():
                    if self._stop.is_set():
                        break
                    for heard in self.pipeline.push(frame):
                        self._handle(heard)
                    if not self.pipeline.armed and not self.pipeline.in_speech:
                        self.light.idle()
            except AudioError as exc:
                if fail_fast and not opened:
                    raise
                log.error("speech: %s; trying again in %.0f s", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            finally:
                self._mic = None
                mic.close()
        self.light.close()
        if self._button is not None:
            self._button.close()

    def _handle(self, heard: Heard) -> None:
        t = heard.transcript
        words = self.question.words(heard.command, t.heard, t.confidence)
        if words is None:
            log.info("speech: heard %r: %s", t.heard, heard.note)
            if self.pipeline.armed:
                self.light.listening()
            return
        log.info("speech: command %r (speech to text %.0f ms, rtf %.2f)", words,
                 t.decode_ms, heard.rtf)
        self.light.thinking()
        result = None
        try:
            settled = None if self.answering is None else self.question.settle(
                words, self.answering)
            if settled is not None:  # an answer, not a new command
                self.light.idle()
                self._confirm(settled[1])
                return
            result = self.on_heard(dataclasses.replace(heard, command=words))
        except ApplianceError as exc:
            log.error("speech: command %r failed: %s", words, exc)
            result = None
        self.light.idle()
        self._confirm(result)
        if self.answering is not None and result is not None and self.question.ask(result):
            self.pipeline.arm(self.settings.wake_timeout_s)  # the answer needs no wake word
            self.light.listening()
            log.info("speech: asked %r, listening for yes or no", spoken(result))

    def _confirm(self, outcome: Outcome | None) -> None:
        mode = self.settings.confirm
        if mode == "none" or outcome is None:
            return
        try:
            if mode == "beep":
                _beep(660 if outcome.held else 880 if outcome.ok else 220)
            elif mode == "speak":
                _speak(spoken(outcome))
        except (OSError, ApplianceError) as exc:
            log.warning("speech: confirmation sound failed: %s", exc)
        if self._mic is not None:
            self._mic.drain()  # do not hear ourselves


def spoken(outcome: Outcome) -> str:
    """What the speaker says back: each action's words in order (a tool's ``say:``, else
    what was done), the error (a clarification asks for what is missing), or a fallback."""
    if not outcome.calls and not outcome.error:
        return "sorry, I can't do that"  # no tool applies: never "done"
    parts: list[str] = []
    # The questions of held calls are asked once, together, where the first one was.
    asked = [r.said for r in outcome.results if r.pending_confirmation and r.said]
    for result in outcome.results:
        if result.pending_confirmation and result.said:
            words = together(asked) if asked else None
            asked = []
        else:
            words = result.said or result.done or result.error
        if words and words not in parts:
            parts.append(words)
    if outcome.error:
        parts.append(outcome.error)
    return ". ".join(parts) or ("done" if outcome.ok else "sorry, that did not work")


def _beep(freq: float, seconds: float = 0.15) -> None:
    t = np.arange(int(16000 * seconds)) / 16000
    tone = (0.3 * np.sin(2 * np.pi * freq * t) * np.hanning(len(t))).astype(np.float32)
    _sounddevice().play(tone, 16000, blocking=True)


def _speak(text: str) -> None:
    if shutil.which("espeak-ng") is None:
        raise AudioError("confirm: speak needs espeak-ng")
    subprocess.run(["espeak-ng", "-s", "170", text[:200]], check=False, timeout=15,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def attach(service: Service, config: Config, pins: SharedPins) -> None:
    """Listen to the microphone inside the daemon; a broken setup leaves voice off, logged."""
    settings = config.speech
    try:
        recognizer = make_recognizer(settings, config.tools)
    except ApplianceError as exc:
        log.error("speech: voice input is off: %s", exc)
        return
    runner = service.runner
    caller = runner.core.caller
    pipeline = VoicePipeline(settings, recognizer, complete=None if caller is None
                             else completes_call(caller.decide))
    holder: dict[str, asyncio.AbstractEventLoop] = {}

    async def request(heard: Heard) -> Outcome:
        req = Request(new_id(), "voice", text=heard.command or "",
                      unsure=heard.transcript.unsure)
        runner.publish(runner.topics.event("transcript"),
                       json.dumps({"id": req.id, "text": req.text}))
        return await runner.submit(req)

    def submit(heard: Heard) -> Outcome | None:
        future = asyncio.run_coroutine_threadsafe(request(heard), holder["loop"])
        try:
            return future.result(timeout=120)
        except Exception as exc:  # the daemon is stopping, or the command timed out
            log.error("speech: command %r not finished: %s", heard.command, exc)
            return None

    def confirm(request_id: str, token: str) -> Outcome | None:
        future = asyncio.run_coroutine_threadsafe(runner.confirm(request_id, token),
                                                  holder["loop"])
        try:
            return future.result(timeout=120)
        except Exception as exc:  # the daemon is stopping
            log.error("speech: confirmation of %s not finished: %s", request_id, exc)
            return None

    try:
        factory = pins.factory
    except ApplianceError as exc:
        log.error("speech: no GPIO for the button and LED: %s", exc)
        factory = None
    # A yes is journaled and announced like an MQTT ``confirm``; a no is the core's alone.
    mic_loop = MicrophoneLoop(settings, pipeline, submit,
                              answering=Answering(confirm, runner.core.decline),
                              pin_factory=factory)
    service.listen_now = mic_loop.listen_now

    def start(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        holder["loop"] = loop
        thread = threading.Thread(target=mic_loop.run_forever, name="microphone", daemon=True)
        thread.start()

        def stop() -> None:
            mic_loop.stop()
            with contextlib.suppress(RuntimeError):
                thread.join(timeout=3)
            recognizer.close()

        return stop

    service.background.append(start)
