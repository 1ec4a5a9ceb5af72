"""Turf cutting and walking order: plain algorithms, no database.

Cutting (`cut_turfs`): recursive weighted bisection. The doors of a set are sorted along the
longer side of their bounding box and cut where the running weight reaches the share of the
turfs on each side, preferring a cut between two buildings when one is close enough, else inside
a large building (between stairs or floors). Each turf is then a compact, balanced block:
O(n log n · log k). Optionally each polling station is cut on its own (turfs never cross a
bureau boundary).

Ordering (`order_stops`): the stops are buildings (all their doors in one go). Exact for small
turfs (Held-Karp dynamic programme over an open path), else nearest neighbour from a few
starts, improved by 2-opt and Or-opt moves until no move shortens the walk. The path is open
with free ends (a walk, not a tour). Walking cost is the straight-line distance plus a penalty
for crossing a street between its odd and even sides, so canvassers work one side, then the
other.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

EARTH_METRES_PER_DEGREE = 111_320.0
CROSSING_METRES = 25.0
WALKING_METRES_PER_MINUTE = 60.0  # 1 m/s
EXACT_MAX_STOPS = 9


@dataclass
class Stop:
    """A place to walk to: a building (all its doors) with plane coordinates in metres."""

    key: int
    x: float
    y: float
    doors: int = 1
    street: str = ""
    number: int | None = None

    @property
    def side(self) -> int | None:
        return None if self.number is None else self.number % 2


@dataclass
class DoorItem:
    """A door to place in a turf: its building's position and its rank inside the building."""

    key: int
    building: int
    x: float
    y: float
    rank: tuple = ()
    group: str = ""
    weight: float = 1.0


@dataclass
class Projection:
    lat0: float
    lon0: float
    scale_x: float = field(init=False)

    def __post_init__(self) -> None:
        self.scale_x = EARTH_METRES_PER_DEGREE * math.cos(math.radians(self.lat0))

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.scale_x, (lat - self.lat0) * EARTH_METRES_PER_DEGREE

    @classmethod
    def around(cls, points: Sequence[tuple[float, float]]) -> Projection:
        if not points:
            return cls(0.0, 0.0)
        lat0 = sum(p[0] for p in points) / len(points)
        lon0 = sum(p[1] for p in points) / len(points)
        return cls(lat0, lon0)


# --- cutting --------------------------------------------------------------------------------


def cut_turfs(
    doors: Sequence[DoorItem],
    *,
    target: float,
    by_group: bool = False,
    tolerance: float = 0.06,
) -> list[list[DoorItem]]:
    """Split doors into turfs of about `target` weight each (doors, or minutes of work)."""
    if target <= 0:
        raise ValueError("The turf size must be positive.")
    if not doors:
        return []
    groups: dict[str, list[DoorItem]] = {}
    if by_group:
        for door in doors:
            groups.setdefault(door.group, []).append(door)
    else:
        groups[""] = list(doors)
    turfs: list[list[DoorItem]] = []
    for members in groups.values():
        total = sum(d.weight for d in members)
        k = max(1, round(total / target))
        _bisect(members, k, target * tolerance, turfs)
    return turfs


def _bisect(doors: list[DoorItem], k: int, slack: float, out: list[list[DoorItem]]) -> None:
    if k <= 1 or len(doors) <= 1:
        out.append(doors)
        return
    xs = [d.x for d in doors]
    ys = [d.y for d in doors]
    along_x = (max(xs) - min(xs)) >= (max(ys) - min(ys))
    if along_x:
        doors.sort(key=lambda d: (d.x, d.y, d.building, d.rank, d.key))
    else:
        doors.sort(key=lambda d: (d.y, d.x, d.building, d.rank, d.key))
    k_left = k // 2
    total = sum(d.weight for d in doors)
    ideal = total * k_left / k
    # Running weights: cut after index i gives prefix[i + 1].
    prefix = list(itertools.accumulate(d.weight for d in doors))
    best_inside = min(range(len(doors) - 1), key=lambda i: abs(prefix[i] - ideal))
    cut = best_inside
    best_gap = math.inf
    for i in range(len(doors) - 1):
        if doors[i].building != doors[i + 1].building:
            gap = abs(prefix[i] - ideal)
            if gap <= slack * max(1, k_left) ** 0.5 and gap < best_gap:
                best_gap, cut = gap, i
    _bisect(doors[: cut + 1], k_left, slack, out)
    _bisect(doors[cut + 1 :], k - k_left, slack, out)


def nearest_distances(points: Sequence[tuple[float, float]], cell: float = 50.0) -> list[float]:
    """Distance from each point to its nearest other point (grid buckets, ~O(n))."""
    buckets: dict[tuple[int, int], list[int]] = {}
    for index, (x, y) in enumerate(points):
        buckets.setdefault((int(x // cell), int(y // cell)), []).append(index)
    result = []
    for index, (x, y) in enumerate(points):
        cx, cy = int(x // cell), int(y // cell)
        best = math.inf
        radius = 1
        while True:
            for gx in range(cx - radius, cx + radius + 1):
                for gy in range(cy - radius, cy + radius + 1):
                    for other in buckets.get((gx, gy), ()):
                        if other != index:
                            ox, oy = points[other]
                            best = min(best, math.hypot(ox - x, oy - y))
            if best <= radius * cell or radius > 40:
                break
            radius += 1
        result.append(0.0 if best is math.inf else best)
    return result


# --- ordering -------------------------------------------------------------------------------


def cost_matrix(stops: Sequence[Stop], crossing: float = CROSSING_METRES) -> list[list[float]]:
    n = len(stops)
    matrix = [[0.0] * n for _ in range(n)]
    for i in range(n):
        a = stops[i]
        row = matrix[i]
        for j in range(i + 1, n):
            b = stops[j]
            cost = math.hypot(a.x - b.x, a.y - b.y)
            if (
                crossing
                and a.street
                and a.street == b.street
                and a.side is not None
                and b.side is not None
                and a.side != b.side
            ):
                cost += crossing
            row[j] = cost
            matrix[j][i] = cost
    return matrix


def path_length(order: Sequence[int], matrix: Sequence[Sequence[float]]) -> float:
    return sum(matrix[a][b] for a, b in itertools.pairwise(order))


def nearest_neighbour(matrix: Sequence[Sequence[float]], start: int) -> list[int]:
    n = len(matrix)
    order = [start]
    left = set(range(n)) - {start}
    while left:
        row = matrix[order[-1]]
        nxt = min(left, key=row.__getitem__)
        order.append(nxt)
        left.remove(nxt)
    return order


def exact_path(matrix: Sequence[Sequence[float]]) -> list[int]:
    """Shortest open path through every stop (free ends), Held-Karp: O(2^n · n²)."""
    n = len(matrix)
    if n <= 2:
        return list(range(n))
    full = (1 << n) - 1
    cost: dict[tuple[int, int], float] = {}
    parent: dict[tuple[int, int], int] = {}
    for j in range(n):
        cost[(1 << j, j)] = 0.0
    for mask in range(1, full + 1):
        for j in range(n):
            if not mask & (1 << j) or (mask, j) not in cost:
                continue
            base = cost[(mask, j)]
            row = matrix[j]
            for k in range(n):
                if mask & (1 << k):
                    continue
                key = (mask | (1 << k), k)
                value = base + row[k]
                if value < cost.get(key, math.inf):
                    cost[key] = value
                    parent[key] = j
    end = min(range(n), key=lambda j: cost[(full, j)])
    order = [end]
    mask = full
    while (mask, order[-1]) in parent:
        prev = parent[(mask, order[-1])]
        mask ^= 1 << order[-1]
        order.append(prev)
    order.reverse()
    return order


NEIGHBOURS = 10


def improve(order: list[int], matrix: Sequence[Sequence[float]]) -> list[int]:
    """2-opt and Or-opt on an open path until no move shortens it.

    2-opt tries every pair of edges (O(n²) per pass, cheap for a turf); Or-opt moves runs of 1
    to 3 stops, possibly reversed, next to one of the NEIGHBOURS nearest stops of either end."""
    n = len(order)
    if n < 4:
        return order
    d = matrix
    near = [
        sorted((j for j in range(n) if j != i), key=d[i].__getitem__)[:NEIGHBOURS] for i in range(n)
    ]
    improved = True
    while improved:
        improved = _two_opt(order, d) | _or_opt(order, d, near)
    return order


def _two_opt(order: list[int], d: Sequence[Sequence[float]]) -> bool:
    n = len(order)
    changed = False
    again = True
    while again:
        again = False
        for i in range(n - 1):
            a = order[i - 1] if i > 0 else -1
            b = order[i]
            row_a = d[a] if a >= 0 else None
            row_b = d[b]
            for j in range(i + 1, n):
                c = order[j]
                e = order[j + 1] if j + 1 < n else -1
                before = (row_a[b] if row_a is not None else 0.0) + (d[c][e] if e >= 0 else 0.0)
                after = (row_a[c] if row_a is not None else 0.0) + (row_b[e] if e >= 0 else 0.0)
                if after < before - 1e-9:
                    order[i : j + 1] = order[i : j + 1][::-1]
                    b = order[i]
                    row_b = d[b]
                    again = changed = True
    return changed


def _or_opt(order: list[int], d: Sequence[Sequence[float]], near: list[list[int]]) -> bool:
    n = len(order)
    changed = False
    position = {stop: index for index, stop in enumerate(order)}
    for length in (1, 2, 3):
        i = 0
        while i + length <= n:
            s0, s1 = order[i], order[i + length - 1]
            prev = order[i - 1] if i > 0 else -1
            nxt = order[i + length] if i + length < n else -1
            removed = (d[prev][s0] if prev >= 0 else 0.0) + (d[s1][nxt] if nxt >= 0 else 0.0)
            if prev >= 0 and nxt >= 0:
                removed -= d[prev][nxt]
            if removed <= 1e-9:
                i += 1
                continue
            candidates = {0, n}
            for stop in near[s0] + near[s1]:
                p = position[stop]
                candidates.add(p)
                candidates.add(p + 1)
            best_gain, best = 1e-9, None
            for p in candidates:
                if i <= p <= i + length:
                    continue
                left = order[p - 1] if p > 0 else -1
                right = order[p] if p < n else -1
                join = d[left][right] if left >= 0 and right >= 0 else 0.0
                for first, last, flip in ((s0, s1, False), (s1, s0, True)):
                    added = (d[left][first] if left >= 0 else 0.0) + (
                        d[last][right] if right >= 0 else 0.0
                    )
                    gain = removed - (added - join)
                    if gain > best_gain:
                        best_gain, best = gain, (p, flip)
            if best is None:
                i += 1
                continue
            p, flip = best
            segment = order[i : i + length]
            if flip:
                segment.reverse()
            rest = order[:i] + order[i + length :]
            at = p if p < i else p - length
            order[:] = rest[:at] + segment + rest[at:]
            position = {stop: index for index, stop in enumerate(order)}
            changed = True
    return changed


def order_stops(stops: Sequence[Stop], *, crossing: float = CROSSING_METRES) -> list[int]:
    """Indexes of `stops` in walking order."""
    if len(stops) <= 2:
        return list(range(len(stops)))
    return order_matrix(cost_matrix(stops, crossing), stops)


def order_matrix(matrix: Sequence[Sequence[float]], stops: Sequence[Stop]) -> list[int]:
    """Walking order for any cost matrix (straight line, or a street or barrier-aware one)."""
    n = len(matrix)
    if n <= 2:
        return list(range(n))
    if n <= EXACT_MAX_STOPS:
        return exact_path(matrix)
    # Start from the extreme stops (a walk usually starts at one end of the turf).
    starts = {
        min(range(n), key=lambda i: stops[i].x),
        max(range(n), key=lambda i: stops[i].x),
        min(range(n), key=lambda i: stops[i].y),
        max(range(n), key=lambda i: stops[i].y),
    }
    best: list[int] | None = None
    best_length = math.inf
    for start in sorted(starts):
        order = improve(nearest_neighbour(matrix, start), matrix)
        length = path_length(order, matrix)
        if length < best_length - 1e-9:
            best, best_length = order, length
    assert best is not None
    return best


def door_rank(entrance: str, floor: str, door: str) -> tuple:
    """Order of doors inside a building: by stair, floor (ground floor first), door."""

    def natural(value: str) -> tuple:
        value = (value or "").strip().lower()
        if value in {"rdc", "rez-de-chaussée", "0", "gf"}:
            return (0, 0, value)
        digits = "".join(ch for ch in value if ch.isdigit())
        return (1, int(digits) if digits else 10_000, value)

    return (natural(entrance), natural(floor), natural(door))
