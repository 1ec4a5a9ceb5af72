"""Turf cutting and walking order, against Google OR-Tools and plain nearest neighbour.

    .venv/bin/python bench/turfs.py [--size N] [--ortools-turfs K] [--ortools-seconds S]

A generated town (fixed seed): a 100 m street grid, an apartment core (buildings of 10 to 80
doors behind stairs and floors) and houses along both sides of the other streets (odd and even
numbers), cut by an east-west river crossed by two bridges. N doors (20,000 by default) are cut
into turfs of about 60 doors with `canvassing.routing.cut_turfs` (each river bank on its own, as
polling stations are), then each turf is ordered with `canvassing.routing.order_matrix`, the code
the app runs. Walking cost: straight line, detour through the nearest bridge across the river,
plus the street-crossing penalty between odd and even sides. The same cost matrix is given to
OR-Tools (PATH_CHEAPEST_ARC then GUIDED_LOCAL_SEARCH, S seconds per turf, open path with free
ends through a zero-cost depot) on K turfs drawn with a fixed seed (all turfs would take K x S
seconds: 330 x 5 s), and to nearest neighbour on every turf.

No database: the algorithms are plain functions; the app's services only read and write the rows.
Prints progress on stderr and one JSON line last on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from canvassing import routing  # noqa: E402
from canvassing.routing import DoorItem, Stop  # noqa: E402

BLOCK = 100.0
RIVER_Y = 1050.0  # between two streets
RIVER_HALF_WIDTH = 20.0
SIDE_OFFSET = 6.0
HOUSE_SPACING = 16.0
TARGET = 60


def bank(y: float) -> int:
    return 0 if y < RIVER_Y else 1


class Town:
    def __init__(self, doors: int, seed: int = 20260501) -> None:
        rng = random.Random(seed)
        side = max(6, int(math.sqrt(doors / 9)) + 2)  # blocks per side, about 9 doors per block
        self.width = side * BLOCK
        self.bridges = [self.width * 0.3, self.width * 0.75]
        self.buildings: list[dict] = []
        self.items: list[DoorItem] = []
        centre = self.width / 2
        core = self.width * 0.18
        building_id = 0
        streets = list(range(side + 1))
        rng.shuffle(streets)
        # Houses along east-west streets (y = k * BLOCK), both sides, numbered odd/even.
        positions = []
        for k in range(side + 1):
            y = k * BLOCK
            if abs(y - RIVER_Y) < BLOCK / 2:
                continue
            x = HOUSE_SPACING / 2
            number = 1
            while x < self.width:
                for parity, offset in ((1, -SIDE_OFFSET), (0, SIDE_OFFSET)):
                    positions.append((x, y + offset, f"street {k}", number + (1 - parity)))
                number += 2
                x += HOUSE_SPACING
        rng.shuffle(positions)
        for x, y, street, number in positions:
            if len(self.items) >= doors:
                break
            if abs(x - centre) < core and abs(y - centre) < core:
                # Apartment core: one building every few plots, 10 to 80 doors.
                if rng.random() > 0.25:
                    continue
                size = rng.randint(10, 80)
                kind = "building"
            else:
                size = 1
                kind = "house"
            size = min(size, doors - len(self.items))
            self.buildings.append(
                {"id": building_id, "x": x, "y": y, "street": street, "number": number,
                 "kind": kind, "doors": size}
            )  # fmt: skip
            for d in range(size):
                stair, rest = divmod(d, 20)
                self.items.append(
                    DoorItem(
                        key=len(self.items),
                        building=building_id,
                        x=x,
                        y=y,
                        rank=((1, stair, ""), (1, rest // 4, ""), (1, rest % 4, "")),
                        group=str(bank(y)),
                    )
                )
            building_id += 1
        self.by_id = {b["id"]: b for b in self.buildings}

    def distance(self, a: Stop, b: Stop) -> float:
        if bank(a.y) == bank(b.y):
            return math.hypot(a.x - b.x, a.y - b.y)
        return min(
            math.hypot(a.x - bx, a.y - RIVER_Y) + math.hypot(bx - b.x, RIVER_Y - b.y)
            for bx in self.bridges
        )

    def matrix(self, stops: list[Stop]) -> list[list[float]]:
        n = len(stops)
        m = [[0.0] * n for _ in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                a, b = stops[i], stops[j]
                cost = self.distance(a, b)
                if a.street == b.street and a.side is not None and b.side is not None:
                    if a.side != b.side:
                        cost += routing.CROSSING_METRES
                m[i][j] = m[j][i] = cost
        return m

    def stops(self, turf: list[DoorItem]) -> list[Stop]:
        seen: dict[int, Stop] = {}
        for item in turf:
            if item.building not in seen:
                b = self.by_id[item.building]
                seen[item.building] = Stop(
                    key=b["id"],
                    x=b["x"],
                    y=b["y"],
                    street=b["street"],
                    number=b["number"] if b["kind"] == "house" else None,
                )
        return list(seen.values())


def ortools_length(matrix: list[list[float]], seconds: float) -> float:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(matrix)
    manager = pywrapcp.RoutingIndexManager(n + 1, 1, n)  # node n: the zero-cost depot
    model = pywrapcp.RoutingModel(manager)
    scaled = [[round(v * 10) for v in row] + [0] for row in matrix] + [[0] * (n + 1)]

    def cost(i: int, j: int) -> int:
        return scaled[manager.IndexToNode(i)][manager.IndexToNode(j)]

    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitCallback(cost))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    solution = model.SolveWithParameters(params)
    order = []
    index = model.Start(0)
    while not model.IsEnd(index):
        node = manager.IndexToNode(index)
        if node != n:
            order.append(node)
        index = solution.Value(model.NextVar(index))
    return routing.path_length(order, matrix)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--ortools-turfs", type=int, default=40)
    parser.add_argument("--ortools-seconds", type=float, default=5.0)
    args = parser.parse_args()

    town = Town(args.size)
    print(f"{len(town.items)} doors in {len(town.buildings)} buildings", file=sys.stderr)

    items = [DoorItem(i.key, i.building, i.x, i.y, i.rank, i.group) for i in town.items]
    started = time.perf_counter()
    turfs = routing.cut_turfs(items, target=TARGET, by_group=True)
    cut_seconds = time.perf_counter() - started
    sizes = [len(t) for t in turfs]
    size_cv = statistics.pstdev(sizes) / statistics.mean(sizes)
    crossing_river = sum(1 for t in turfs if len({bank(d.y) for d in t}) > 1)
    print(f"{len(turfs)} turfs in {cut_seconds:.2f} s, CV {size_cv:.3f}", file=sys.stderr)

    ours: list[float] = []
    nearest: list[float] = []
    matrices = []
    order_seconds = 0.0
    for turf in turfs:
        stops = town.stops(turf)
        matrix = town.matrix(stops)
        started = time.perf_counter()
        order = routing.order_matrix(matrix, stops)
        order_seconds += time.perf_counter() - started
        length = routing.path_length(order, matrix)
        nn = min(
            routing.path_length(routing.nearest_neighbour(matrix, s), matrix)
            for s in range(len(stops))
        ) if len(stops) > 1 else 0.0  # fmt: skip
        ours.append(length)
        nearest.append(nn)
        matrices.append(matrix)
    vs_nn = [o / n for o, n in zip(ours, nearest, strict=True) if n > 0]

    rng = random.Random(7)
    candidates = [i for i, m in enumerate(matrices) if len(m) > 2]
    sample = sorted(rng.sample(candidates, min(args.ortools_turfs, len(candidates))))
    vs_ortools = []
    for count, index in enumerate(sample, start=1):
        reference = ortools_length(matrices[index], args.ortools_seconds)
        vs_ortools.append(ours[index] / reference if reference > 0 else 1.0)
        print(
            f"OR-Tools {count}/{len(sample)}: {len(matrices[index])} stops, "
            f"ratio {vs_ortools[-1]:.4f}",
            file=sys.stderr,
        )

    result = {
        "bench": "turfs",
        "doors": len(town.items),
        "cut_seconds": round(cut_seconds, 3),
        "size_cv": round(size_cv, 4),
        "route_vs_ortools_mean": round(statistics.mean(vs_ortools), 4) if vs_ortools else None,
        "route_vs_ortools_p95": round(percentile(vs_ortools, 0.95), 4) if vs_ortools else None,
        "route_vs_nearest_neighbour_mean": round(statistics.mean(vs_nn), 4),
        "seconds_per_turf": round(order_seconds / len(turfs), 4),
        "turfs": len(turfs),
        "turf_doors_min_max": [min(sizes), max(sizes)],
        "turfs_crossing_river": crossing_river,
        "ortools_turfs": len(sample),
        "ortools_seconds_each": args.ortools_seconds,
        "stops_per_turf_mean": round(statistics.mean(len(m) for m in matrices), 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
