"""sim/explore/explorer.py: the schedule explorer on small scenarios whose
interleavings are known: how many it runs, that it finds a deadlock and a lost
update, and that a failing schedule replays."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import pytest

from kernel.lib import delay, lockdep, schedpoint
from kernel.lib.mutex import Mutex, mutex_lock, mutex_trylock, mutex_unlock
from kernel.lib.sched import get_current, task_struct
from sim.explore.explorer import Explorer, format_schedule, parse_schedule


class Toy:
    """Threads over plain mutexes; ``check`` runs ``invariant``."""

    name = "toy"

    def __init__(self, bodies: dict[str, Callable[[Toy], None]], invariant: Callable[[Toy], None]) -> None:
        self.bodies = bodies
        self.invariant = invariant
        self.a = Mutex("toy_a")
        self.b = Mutex("toy_b")
        self.counter = 0
        self.log: list[str] = []

    def setup(self) -> None:
        pass

    def threads(self) -> Sequence[tuple[str, Callable[[], None]]]:
        return [(name, lambda body=body: body(self)) for name, body in self.bodies.items()]

    def step_check(self) -> None:
        pass

    def check(self) -> None:
        self.invariant(self)

    def teardown(self) -> None:
        pass


def factory(bodies: dict[str, Callable[[Toy], None]], invariant: Callable[[Toy], None] = lambda t: None):
    return lambda: Toy(bodies, invariant)


def locked_append(lock_name: str, item: str) -> Callable[[Toy], None]:
    def body(t: Toy) -> None:
        lock = getattr(t, lock_name)
        mutex_lock(lock)
        t.log.append(item)
        mutex_unlock(lock)

    return body


def test_independent_critical_sections_are_one_schedule() -> None:
    r = Explorer(
        factory({"p": locked_append("a", "p"), "q": locked_append("b", "q")}), require_race=False
    ).explore()
    assert (r.runs, r.complete, r.failures) == (1, True, [])


def test_a_race_with_one_schedule_is_a_setup_failure_not_a_pass() -> None:
    r = Explorer(factory({"p": locked_append("a", "p"), "q": locked_append("b", "q")})).explore()
    assert (r.runs, r.complete, r.ok) == (1, True, False)
    assert [(f.kind, f.message) for f in r.failures] == [
        (
            "setup",
            "one schedule only: the race's threads never touch a common object, so there is no "
            "race to explore (a set-up error of the scenario)",
        )
    ]


def test_two_sections_on_one_lock_are_two_schedules_both_orders_seen() -> None:
    orders: set[tuple[str, ...]] = set()
    r = Explorer(
        factory(
            {"p": locked_append("a", "p"), "q": locked_append("a", "q")},
            lambda t: orders.add(tuple(t.log)),
        )
    ).explore()
    assert (r.runs, r.complete, r.failures) == (2, True, [])
    assert orders == {("p", "q"), ("q", "p")}


def test_a_failed_trylock_is_explored() -> None:
    results: set[int] = set()

    def holder(t: Toy) -> None:
        mutex_lock(t.a)
        mutex_unlock(t.a)

    def trier(t: Toy) -> None:
        got = mutex_trylock(t.a)
        results.add(got)
        if got:
            mutex_unlock(t.a)

    r = Explorer(factory({"holder": holder, "trier": trier})).explore()
    assert r.complete and not r.failures
    assert results == {0, 1}


def abba(first: str, second: str) -> Callable[[Toy], None]:
    def body(t: Toy) -> None:
        x, y = getattr(t, first), getattr(t, second)
        mutex_lock(x)
        mutex_lock(y)
        mutex_unlock(y)
        mutex_unlock(x)

    return body


def test_abba_deadlock_is_found_and_its_schedule_replays() -> None:
    ex = Explorer(factory({"p": abba("a", "b"), "q": abba("b", "a")}), stop_on_failure=False)
    r = ex.explore()
    kinds = {f.kind for f in r.failures}
    assert "deadlock" in kinds  # the interleaving that hangs
    assert "lockdep" in kinds  # the serial ones: lockdep sees both orders
    dead = next(f for f in r.failures if f.kind == "deadlock")
    assert "p waits to acquire toy_b (held by q)" in dead.message
    assert format_schedule(dead.schedule) == "p*2 q*2"
    replay = ex.run(format_schedule(dead.schedule))
    assert [f.kind for f in replay.failures] == ["deadlock"]
    lockdep.reports.clear()


def racy_increment(t: Toy) -> None:
    schedpoint.sched_point(schedpoint.SP_ACCESS, t)
    v = t.counter
    schedpoint.sched_point(schedpoint.SP_ACCESS, t)
    t.counter = v + 1


def locked_increment(t: Toy) -> None:
    mutex_lock(t.a)
    v = t.counter
    t.counter = v + 1
    mutex_unlock(t.a)


def both_counted(t: Toy) -> None:
    assert t.counter == 2, f"counter {t.counter}"


def test_lost_update_without_a_lock_is_found_and_pinned() -> None:
    ex = Explorer(factory({"p": racy_increment, "q": racy_increment}, both_counted))
    r = ex.explore()
    assert [f.kind for f in r.failures] == ["invariant"]
    assert r.failures[0].message.startswith("counter 1")
    # the pinned schedule: p reads, q runs both accesses, p writes back its stale value
    assert format_schedule(r.failures[0].schedule) == "p*2 q*3 p"
    assert [f.message.splitlines()[0] for f in ex.run("p*2 q*3 p").failures] == ["counter 1"]
    assert ex.run("p*3 q*3").failures == []


def all_three_counted(t: Toy) -> None:
    assert t.counter == 3, f"counter {t.counter}"


def test_the_locked_increment_is_correct_in_every_schedule() -> None:
    r = Explorer(
        factory({"p": locked_increment, "q": locked_increment, "s": locked_increment}, all_three_counted)
    ).explore()
    assert r.complete and not r.failures
    assert r.runs == 6  # 3! orders of three critical sections on one lock
    # the invariant is one that can fail: an increment lost, or one too many
    toy = factory({}, all_three_counted)()
    for wrong in (2, 4):
        toy.counter = wrong
        with pytest.raises(AssertionError, match=f"counter {wrong}"):
            toy.check()


def test_schedule_text_round_trips() -> None:
    s = ["fw", "fw", "kmcheck", "user", "user", "user", "kmcheck"]
    assert format_schedule(s) == "fw*2 kmcheck user*3 kmcheck"
    assert parse_schedule(format_schedule(s)) == s


def test_no_explorer_means_no_scheduling() -> None:
    assert schedpoint.active is None
    m = Mutex("toy_plain")
    mutex_lock(m)
    mutex_unlock(m)


def test_explored_threads_are_green_threads_of_the_callers_os_thread_each_its_own_task() -> None:
    seen: list[tuple[str, int, object]] = []

    def body(name: str) -> Callable[[Toy], None]:
        def run(t: Toy) -> None:
            mutex_lock(t.a)
            me = get_current()
            assert isinstance(me, task_struct)
            seen.append((name, threading.get_ident(), me.name))
            assert t.a.owner is me
            mutex_unlock(t.a)

        return run

    r = Explorer(factory({"p": body("p"), "q": body("q")})).explore()
    assert (r.runs, r.complete, r.failures) == (2, True, [])
    main = threading.get_ident()
    assert sorted(seen) == [("p", main, "p"), ("p", main, "p"), ("q", main, "q"), ("q", main, "q")]
    assert get_current() is threading.current_thread()  # the caller's own task again


def test_delays_of_an_explored_run_advance_the_clock_without_yielding() -> None:
    calls: list[float] = []
    delay.set_sleep_hook(calls.append)
    clock: list[float] = []

    def sleeper(t: Toy) -> None:
        mutex_lock(t.a)
        delay.msleep(100)
        clock.append(delay.ktime_get_ms())
        mutex_unlock(t.a)

    r = Explorer(factory({"p": sleeper, "q": sleeper})).explore()
    assert (r.runs, r.failures) == (2, [])
    assert calls == []  # no yield while explored
    assert delay.clock.sleep_hook == calls.append  # the hook is back afterwards
    delay.msleep(1)
    assert calls == [1.0]
    assert sorted(clock)[-1] == 400.0  # two runs of two 100 ms sleeps, the clock never reset
    delay.set_sleep_hook(None)


def outcome_sets(
    bodies: dict[str, Callable[[Toy], None]], reduction: bool
) -> tuple[set[tuple[object, ...]], int]:
    seen: set[tuple[object, ...]] = set()

    def record(t: Toy) -> None:
        # what the readers saw, in no order: the log itself is shared data no step
        # announces, so its order between threads is outside the model
        seen.add((t.counter, tuple(sorted(e for e in t.log if e.startswith("saw")))))

    r = Explorer(
        factory(bodies, record), reduction=reduction, require_race=False, stop_on_failure=False
    ).explore()
    assert r.complete
    lockdep.reports.clear()
    return seen, r.runs


def read_then_write(t: Toy) -> None:
    schedpoint.sched_point(schedpoint.SP_READ, (t, "counter"))
    v = t.counter
    schedpoint.sched_point(schedpoint.SP_WRITE, (t, "counter"))
    t.counter = v + 1


def reader(t: Toy) -> None:
    schedpoint.sched_point(schedpoint.SP_READ, (t, "counter"))
    t.log.append(f"saw {t.counter}")


def two_locks_and_data(t: Toy) -> None:
    locked_append("a", "x")(t)
    read_then_write(t)
    locked_append("b", "y")(t)


@pytest.mark.parametrize(
    "bodies",
    [
        {"p": read_then_write, "q": read_then_write},
        {"p": read_then_write, "q": reader, "r": reader},
        {"p": read_then_write, "q": read_then_write, "r": reader},
        {"p": two_locks_and_data, "q": locked_append("b", "q"), "r": reader},
    ],
    ids=["lost-update", "writer-two-readers", "two-writers-one-reader", "locks-and-data"],
)
def test_the_reduced_search_reaches_exactly_the_outcomes_of_the_plain_search(
    bodies: dict[str, Callable[[Toy], None]],
) -> None:
    reduced, reduced_runs = outcome_sets(bodies, reduction=True)
    plain, plain_runs = outcome_sets(bodies, reduction=False)
    assert reduced == plain
    assert reduced_runs < plain_runs


def test_two_reads_commute_a_write_does_not() -> None:
    _, runs = outcome_sets({"q": reader, "r": reader}, reduction=True)
    assert runs == 1
    seen, runs = outcome_sets({"p": read_then_write, "q": reader}, reduction=True)
    assert seen == {(1, ("saw 0",)), (1, ("saw 1",))}
    assert runs == 2  # the reader before the write, or after: its order with p's read is free


def test_atomic_locks_are_not_scheduling_points_but_may_not_be_held_across_one() -> None:
    bodies = {"p": locked_append("a", "p"), "q": locked_append("a", "q")}
    assert Explorer(factory(bodies)).explore().runs == 2

    def atomic_a() -> Toy:
        toy = Toy(bodies, lambda t: None)
        toy.ATOMIC_LOCKS = frozenset({"toy_a"})  # type: ignore[attr-defined]
        return toy

    r = Explorer(atomic_a, require_race=False).explore()
    assert (r.runs, r.failures, r.max_steps_seen) == (1, [], 2)  # only the two starts

    def held_across_b(t: Toy) -> None:
        mutex_lock(t.a)
        mutex_lock(t.b)  # a scheduling point inside the atomic section
        mutex_unlock(t.b)
        mutex_unlock(t.a)

    def atomic_a_broken() -> Toy:
        toy = Toy({"p": held_across_b, "q": held_across_b}, lambda t: None)
        toy.ATOMIC_LOCKS = frozenset({"toy_a"})  # type: ignore[attr-defined]
        return toy

    # p takes a (no point), stops at b's acquire; q then tries a: a failure, not a hang
    run = Explorer(atomic_a_broken).run("p p q")
    assert [(f.kind, f.message) for f in run.failures] == [
        ("explorer", "q: toy_a is atomic in this race but held by p across a scheduling point")
    ]
