"""tests/fuzz/__main__.py: the soak's seed -- random for --soak, chosen with --seed,
printed first so that a failure is replayed with it."""

from __future__ import annotations

import re

import pytest

import tests.fuzz.__main__ as fuzz_main
from sim.fuzz import Op

N = "20"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    rc = fuzz_main.main([*argv, "-n", N])
    cap = capsys.readouterr()
    return rc, cap.out.splitlines(), cap.err


def report(out: list[str]) -> list[str]:
    """The figures of a run: everything but the seed line and the time."""
    assert out[-1].startswith("time ")
    return out[1:-1]


def test_the_same_seed_draws_the_same_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    rc1, out1, _ = run(capsys, "--seed", "7")
    rc2, out2, _ = run(capsys, "--seed", "7")
    rc3, out3, _ = run(capsys, "--seed", "8")
    assert rc1 == rc2 == rc3 == 0
    assert out1[0] == out2[0] == "seed 7 (replay: python -m tests.fuzz --seed 7 -n 20)"
    assert out3[0] == "seed 8 (replay: python -m tests.fuzz --seed 8 -n 20)"
    assert report(out1)[0].startswith("examples 20, steps ")
    assert report(out1) == report(out2)
    assert report(out1) != report(out3)


def test_soak_picks_a_random_seed_and_prints_how_to_replay_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seed comes from the system's random source (two draws here, fixed so that
    the run's inputs -- and so tests/executed.txt -- are the same every time)."""
    draws = iter([1234, 987654321])
    asked: list[int] = []

    class FixedRandom:
        def getrandbits(self, k: int) -> int:
            asked.append(k)
            return next(draws)

    monkeypatch.setattr(fuzz_main.random, "SystemRandom", FixedRandom)
    seeds = []
    for _ in range(2):
        rc, out, _ = run(capsys, "--soak")
        assert rc == 0
        m = re.fullmatch(r"seed (\d+) \(replay: python -m tests\.fuzz --seed \1 -n 20\)", out[0])
        assert m is not None, out[0]
        seeds.append((m.group(1), report(out)))
    assert [s for s, _ in seeds] == ["1234", "987654321"] and asked == [32, 32]
    # the printed seed replays the soak's inputs
    rc, out, _ = run(capsys, "--seed", seeds[0][0])
    assert rc == 0 and report(out) == seeds[0][1]


def test_without_soak_or_seed_the_run_is_derandomized(capsys: pytest.CaptureFixture[str]) -> None:
    _, out1, _ = run(capsys)
    _, out2, _ = run(capsys)
    assert out1[0] == out2[0] == "seed: derandomized"
    assert report(out1) == report(out2)


def test_a_failure_names_the_seed_that_replays_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(sequence: list[Op], stats: object) -> None:
        raise AssertionError("a property does not hold")  # at once: little to shrink

    monkeypatch.setattr(fuzz_main, "run_example", failing)
    rc, out, err = run(capsys, "--seed", "11")
    assert rc == 1
    assert out[0] == "seed 11 (replay: python -m tests.fuzz --seed 11 -n 20)"
    lines = err.splitlines()
    assert lines[-2] == "FAILED: AssertionError: a property does not hold"
    assert lines[-1] == "FAILED with seed 11 (replay: python -m tests.fuzz --seed 11 -n 20)"
