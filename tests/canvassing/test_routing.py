"""Turf cutting and walking order on known cases: balance, compactness, optimum by brute force."""

from __future__ import annotations

import itertools
import math
import random
import statistics

import pytest

from canvassing import routing
from canvassing.routing import DoorItem, Stop


def brute_force(matrix: list[list[float]]) -> float:
    n = len(matrix)
    return min(
        routing.path_length(order, matrix)
        for order in itertools.permutations(range(n))
        if order[0] < order[-1]  # a path and its reverse have the same length
    )


def random_stops(rng: random.Random, n: int, size: float = 300.0) -> list[Stop]:
    return [Stop(key=i, x=rng.uniform(0, size), y=rng.uniform(0, size)) for i in range(n)]


@pytest.mark.parametrize("n", [3, 5, 7, 8, 9])
def test_small_turfs_get_the_optimal_walk(n):
    rng = random.Random(n)
    for _ in range(5):
        stops = random_stops(rng, n)
        matrix = routing.cost_matrix(stops)
        order = routing.order_stops(stops)
        assert sorted(order) == list(range(n))
        assert routing.path_length(order, matrix) == pytest.approx(brute_force(matrix))


def test_local_search_alone_reaches_the_optimum_or_close_on_random_cases():
    """2-opt + Or-opt from nearest neighbour (the method used past the exact size)."""
    rng = random.Random(42)
    ratios = []
    for _ in range(12):
        stops = random_stops(rng, 9)
        matrix = routing.cost_matrix(stops)
        best = min(
            routing.path_length(
                routing.improve(routing.nearest_neighbour(matrix, s), matrix), matrix
            )
            for s in (0, 4, 8)
        )
        ratios.append(best / brute_force(matrix))
    assert min(ratios) >= 1 - 1e-9
    assert statistics.mean(ratios) <= 1.02
    assert max(ratios) <= 1.08


def test_local_search_beats_nearest_neighbour_on_larger_turfs():
    rng = random.Random(7)
    gains = []
    for _ in range(10):
        stops = random_stops(rng, 60, size=600)
        matrix = routing.cost_matrix(stops)
        nn = routing.path_length(routing.nearest_neighbour(matrix, 0), matrix)
        ours = routing.path_length(routing.order_stops(stops), matrix)
        assert ours <= nn + 1e-9
        gains.append(ours / nn)
    assert statistics.mean(gains) < 0.95


def test_a_grid_is_walked_without_detour():
    stops = [Stop(key=i, x=(i % 5) * 10.0, y=(i // 5) * 10.0) for i in range(20)]
    order = routing.order_stops(stops)
    assert routing.path_length(order, routing.cost_matrix(stops)) == pytest.approx(190.0)


def street_with_two_sides() -> list[Stop]:
    # Odd numbers on one side (y=0), even on the other (y=8), facing each other every 20 m.
    stops = []
    for i in range(10):
        stops.append(Stop(key=len(stops), x=i * 20.0, y=0.0, street="rue haute", number=2 * i + 1))
        stops.append(Stop(key=len(stops), x=i * 20.0, y=8.0, street="rue haute", number=2 * i + 2))
    return stops


def crossings(order: list[int], stops: list[Stop]) -> int:
    return sum(1 for a, b in itertools.pairwise(order) if stops[a].side != stops[b].side)


def test_one_side_of_the_street_then_the_other():
    stops = street_with_two_sides()
    assert crossings(routing.order_stops(stops), stops) == 1
    # Without the crossing cost the shortest line zig-zags across the street.
    assert crossings(routing.order_stops(stops, crossing=0.0), stops) > 5


def doors_on_a_town(n_buildings: int = 400, seed: int = 3) -> list[DoorItem]:
    rng = random.Random(seed)
    doors = []
    for b in range(n_buildings):
        x, y = rng.uniform(0, 2000), rng.uniform(0, 1500)
        size = rng.choice([1, 1, 1, 2, 4, 12, 30])
        group = "A" if x < 1000 else "B"
        for d in range(size):
            doors.append(
                DoorItem(key=len(doors), building=b, x=x, y=y, rank=(0, d // 4, d), group=group)
            )
    return doors


def test_turfs_are_balanced_and_compact():
    doors = doors_on_a_town()
    target = 60
    turfs = routing.cut_turfs(doors, target=target)
    sizes = [len(t) for t in turfs]
    assert sum(sizes) == len(doors)
    assert len({d.key for t in turfs for d in t}) == len(doors)
    assert statistics.pstdev(sizes) / statistics.mean(sizes) < 0.10
    assert min(sizes) >= 0.8 * target and max(sizes) <= 1.2 * target
    # Compact: doors sit near their own turf's centre, much nearer than across the town.
    area_per_turf = 2000 * 1500 / len(turfs)
    spread = []
    for turf in turfs:
        cx = statistics.mean(d.x for d in turf)
        cy = statistics.mean(d.y for d in turf)
        spread.append(statistics.mean(math.hypot(d.x - cx, d.y - cy) for d in turf))
    assert statistics.mean(spread) < 0.6 * math.sqrt(area_per_turf)
    # A building is split only when it must be: most buildings sit in one turf.
    homes: dict[int, set[int]] = {}
    for index, turf in enumerate(turfs):
        for d in turf:
            homes.setdefault(d.building, set()).add(index)
    split = sum(1 for turf_ids in homes.values() if len(turf_ids) > 1)
    assert split <= len(turfs)


def test_turfs_can_keep_to_polling_stations():
    doors = doors_on_a_town()
    turfs = routing.cut_turfs(doors, target=60, by_group=True)
    assert all(len({d.group for d in turf}) == 1 for turf in turfs)


def test_turfs_balanced_by_minutes_of_work():
    doors = doors_on_a_town()
    for d in doors:
        d.weight = 1.5 + (3.0 if d.building % 3 == 0 else 0.5)
    turfs = routing.cut_turfs(doors, target=120)
    minutes = [sum(d.weight for d in t) for t in turfs]
    assert statistics.pstdev(minutes) / statistics.mean(minutes) < 0.10


def test_doors_in_a_building_in_stair_and_floor_order():
    ranks = [
        routing.door_rank("B", "2", "21"),
        routing.door_rank("A", "RDC", "1"),
        routing.door_rank("A", "10", "101"),
        routing.door_rank("A", "2", "22"),
    ]
    assert sorted(ranks) == [ranks[1], ranks[3], ranks[2], ranks[0]]


def test_a_nonsense_size_is_refused():
    with pytest.raises(ValueError):
        routing.cut_turfs(doors_on_a_town(10), target=0)
