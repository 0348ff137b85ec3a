"""Candidate logits (the output layer skipped) equal llama.cpp's full logits, on the real model."""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from appliance.caller import ToolCaller
from appliance.caller.candidates import OutputRows
from appliance.caller.engine import Engine
from appliance.config import Config
from appliance.errors import ModelError
from appliance.modelstore import embedded_model, resolve_model

pytestmark = pytest.mark.model

TOLERANCE = 1e-3  # measured: at most 4e-6 apart (float summation order)
REQUESTS = ["turn on the kitchen light", "set a timer for 10 minutes", "tell me a joke",
            "set the thermostat to 21 degrees", "play some miles davis"]


@pytest.fixture(scope="module")
def full_caller(home_config: Config) -> Iterator[ToolCaller]:
    """The demo home's caller on the full-logit path (what APPLIANCE_LOGITS=full gives)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("APPLIANCE_LOGITS", "full")
        caller = ToolCaller.from_config(home_config)
    yield caller
    caller.close()


def _compare(caller: ToolCaller, text: str, tokens: np.ndarray) -> float:
    """Largest difference between both paths' logits for ``tokens``, at both outputs of
    the first batch of a request (the user's turn, and after the call's opening)."""
    engine = caller.engine
    batch = caller.request_tokens(text) + caller.call_prefix
    outputs = (len(batch) - len(caller.call_prefix) - 1, -1)
    engine.rewind()
    scores = engine.eval_scores(batch, outputs)
    engine.rewind()
    logits = engine.eval(batch, outputs)
    assert engine.candidates
    return max(float(np.abs(s.at(tokens) - x[tokens]).max()) for s, x in
               zip(scores, logits, strict=True))


def test_candidate_scores_equal_the_full_logits(home_caller: ToolCaller) -> None:
    tokens = np.random.default_rng(0).choice(home_caller.engine.n_vocab, 3000, replace=False)
    for text in REQUESTS:
        assert _compare(home_caller, text, tokens) < TOLERANCE, text


def test_q8_0_rows_too() -> None:
    """The original Q4_K_M model keeps its embedding in Q8_0: the same agreement."""
    model = embedded_model()
    assert OutputRows(model).kind == 8
    engine = Engine(model, candidates=True)
    try:
        toks = engine.tokenize("<bos>The capital of France is")
        engine.set_prefix(toks[:-3])
        ids = np.arange(0, engine.n_vocab, 97)
        scores = engine.eval_scores(toks[-3:])[0]
        engine.rewind()
        logits = engine.eval(toks[-3:])[0]
        assert float(np.abs(scores.at(ids) - logits[ids]).max()) < TOLERANCE
        assert scores.best(ids) == int(ids[int(np.argmax(logits[ids]))])
    finally:
        engine.close()


def test_both_paths_reach_the_same_answers(home_caller: ToolCaller,
                                           full_caller: ToolCaller) -> None:
    assert home_caller.engine.candidates and not full_caller.engine.candidates
    for text in [*REQUESTS, "switch off the lights in the bedroom", "what's the weather in lisbon",
                 "set the thermostat", "lock the car", "what time is it in tokyo"]:
        a, b = home_caller.decide(text), full_caller.decide(text)
        assert (a.raw, a.calls, a.error) == (b.raw, b.calls, b.error), text
        assert a.confidence == pytest.approx(b.confidence, abs=1e-4), text


def test_an_adapters_first_choice_is_among_its_trained_openings(
        home_caller: ToolCaller, full_caller: ToolCaller) -> None:
    """With an adapter the turn's first token is scored over a call, a question and the
    no-call reply only (their full-vocabulary scores agree: the test above)."""
    engine = home_caller.engine
    assert home_caller._turn is not None and full_caller._turn is None
    assert [engine.piece(t) for t in home_caller._turn] == ["<", "Which", "Sorry"]


def _present(start: int, size: int) -> int:
    """Bytes of this process's pages in [start, start + size) that are mapped in memory
    (bit 63 of each /proc/self/pagemap entry)."""
    page = mmap.PAGESIZE
    with open("/proc/self/pagemap", "rb") as f:
        f.seek(start // page * 8)
        entries = np.frombuffer(f.read(size // page * 8), dtype="<u8")
    return int(((entries >> np.uint64(63)) & np.uint64(1)).sum()) * page


def test_the_output_layer_is_not_kept_resident(home_caller: ToolCaller) -> None:
    """llama.cpp maps the whole file resident; the output rows are given back at every
    rewind, so after requests only the pages of the few rows they embedded are mapped."""
    engine = home_caller.engine
    for text in REQUESTS:
        home_caller.forget()
        home_caller.decide(text)
    engine.eval(home_caller.request_tokens("hello"))  # full logits: every row read ...
    rows = engine._rows
    assert rows is not None and rows._ranges, "no mapping of the output rows found"
    mapped = sum(size for _, size in rows._ranges)
    assert mapped > 0.99 * rows.nbytes
    assert sum(_present(*r) for r in rows._ranges) > 0.9 * mapped
    engine.rewind()  # ... and given back
    assert sum(_present(*r) for r in rows._ranges) < 0.05 * mapped


def test_full_logits_after_candidate_evals(home_caller: ToolCaller) -> None:
    """After evals that stopped short of the output layer, full logits are still right."""
    engine = home_caller.engine
    request = home_caller.request_tokens("unlock the front door")
    engine.rewind()
    before = engine.eval(request)[0]
    engine.rewind()
    engine.eval_scores(request)
    engine.rewind()
    after = engine.eval(request)[0]
    assert np.array_equal(before, after)


def test_the_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPLIANCE_LOGITS", "some")
    with pytest.raises(ModelError, match="APPLIANCE_LOGITS must be"):
        Engine(resolve_model(None))


def _gguf_with_embedding_type(path: Path, kind: int, row_bytes: int) -> Path:
    """A GGUF header with one 64 x 4 token_embd of ggml type ``kind`` (zeros)."""
    name = b"token_embd.weight"
    header = (b"GGUF" + struct.pack("<IQQ", 3, 1, 0) + struct.pack("<Q", len(name)) + name
              + struct.pack("<I2QIQ", 2, 64, 4, kind, 0))
    header += b"\0" * (-len(header) % 32)
    path.write_bytes(header + b"\0" * (4 * row_bytes))
    return path


def test_an_output_layer_it_cannot_score_means_full_logits(tmp_path: Path) -> None:
    q5_0 = _gguf_with_embedding_type(tmp_path / "q5_0.gguf", 6, 2 * 22)
    assert OutputRows.open(q5_0, required=False) is None
    with pytest.raises(ModelError, match=r"candidate logits need token_embd\.weight in"):
        OutputRows.open(q5_0, required=True)
    q4_0 = OutputRows.open(_gguf_with_embedding_type(tmp_path / "q4_0.gguf", 2, 2 * 18),
                           required=True)
    assert q4_0 is not None and (q4_0.n_embd, q4_0.n_vocab) == (64, 4)
    assert q4_0.scores(np.ones(64, dtype=np.float32), [0, 3]).tolist() == [0.0, 0.0]
    q4_0.close()
