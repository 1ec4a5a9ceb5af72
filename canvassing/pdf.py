"""The printable walk list of a turf: a small map of the route and the doors in walking order,
with boxes to tick. A minimal PDF writer (text, lines, dots), so no PDF library is needed:
Helvetica in WinAnsi covers French."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from canvassing import routing
from canvassing.models import Door, Turf

PAGE_W, PAGE_H = 595.0, 842.0  # A4 in points
MARGIN = 36.0
ROW_H = 16.0


def _text(value: str) -> str:
    encoded = value.encode("cp1252", errors="replace").decode("latin-1")
    return encoded.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


class Canvas:
    def __init__(self) -> None:
        self.pages: list[list[str]] = []
        self.ops: list[str] = []

    def new_page(self) -> None:
        self.ops = []
        self.pages.append(self.ops)

    def text(self, x: float, y: float, value: str, size: float = 9, bold: bool = False) -> None:
        font = "F2" if bold else "F1"
        self.ops.append(f"BT /{font} {size} Tf {x:.1f} {y:.1f} Td ({_text(value)}) Tj ET")

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.5) -> None:
        self.ops.append(f"{width} w {x1:.1f} {y1:.1f} m {x2:.1f} {y2:.1f} l S")

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        self.ops.append(f"0.5 w {x:.1f} {y:.1f} {w:.1f} {h:.1f} re S")

    def dot(self, x: float, y: float, r: float = 2.5) -> None:
        self.ops.append(f"{x - r:.1f} {y - r:.1f} {2 * r:.1f} {2 * r:.1f} re f")

    def render(self) -> bytes:
        objects: list[bytes] = []

        def add(body: bytes) -> int:
            objects.append(body)
            return len(objects)

        catalog = add(b"")  # filled below
        pages_id = add(b"")
        font_spec = "<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
        font = add((font_spec % "Helvetica").encode())
        bold = add((font_spec % "Helvetica-Bold").encode())
        kids = []
        for ops in self.pages:
            stream = "\n".join(ops).encode("latin-1")
            content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
            page = add(
                (
                    f"<< /Type /Page /Parent {pages_id} 0 R "
                    f"/MediaBox [0 0 {PAGE_W:.0f} {PAGE_H:.0f}] "
                    f"/Resources << /Font << /F1 {font} 0 R /F2 {bold} 0 R >> >> "
                    f"/Contents {content} 0 R >>"
                ).encode()
            )
            kids.append(page)
        objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode()
        objects[pages_id - 1] = (
            f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
        ).encode()
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        for offset in offsets:
            out += b"%010d 00000 n \n" % offset
        out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(objects) + 1,
            catalog,
            xref,
        )
        return bytes(out)


def _draw_map(canvas: Canvas, stops: Sequence[tuple[float, float]], box: tuple) -> None:
    x0, y0, w, h = box
    canvas.rect(x0, y0, w, h)
    if not stops:
        return
    projection = routing.Projection.around(stops)
    points = [projection.xy(lat, lon) for lat, lon in stops]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1.0)
    scale = min(w, h) * 0.86 / span
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def at(p: tuple[float, float]) -> tuple[float, float]:
        return x0 + w / 2 + (p[0] - cx) * scale, y0 + h / 2 + (p[1] - cy) * scale

    placed = [at(p) for p in points]
    for a, b in zip(placed, placed[1:], strict=False):
        canvas.line(a[0], a[1], b[0], b[1], width=0.8)
    for index, (x, y) in enumerate(placed, start=1):
        canvas.dot(x, y)
        canvas.text(x + 3, y + 3, str(index), size=6)
    canvas.text(x0 + 4, y0 + 4, _("%(m)s m on foot") % {"m": round(routing.path_length(
        list(range(len(points))), routing.cost_matrix(
            [routing.Stop(key=i, x=p[0], y=p[1]) for i, p in enumerate(points)], crossing=0.0
        )))}, size=7)  # fmt: skip


def walk_list_pdf(turf: Turf) -> bytes:
    doors = list(
        Door.objects.filter(turf=turf)
        .select_related("building")
        .prefetch_related("residents__person")
        .order_by("route_position")
    )
    stops: list[tuple[float, float]] = []
    numbers: dict[int, int] = {}
    for door in doors:
        if door.building_id not in numbers:
            numbers[door.building_id] = len(numbers) + 1
            stops.append((door.building.latitude, door.building.longitude))
    canvas = Canvas()
    canvas.new_page()
    dc = turf.door_campaign
    canvas.text(MARGIN, PAGE_H - MARGIN - 6, f"{dc.name} · {turf}", size=14, bold=True)
    canvas.text(
        MARGIN,
        PAGE_H - MARGIN - 24,
        _("%(doors)s doors · about %(minutes)s min · walk in this order")
        % {"doors": turf.door_count, "minutes": round(turf.estimated_minutes)},
    )
    y = PAGE_H - MARGIN - 40
    for line in (dc.instructions or "").splitlines()[:6]:
        canvas.text(MARGIN, y, line[:60], size=8)
        y -= 11
    map_box = (PAGE_W - MARGIN - 230, PAGE_H - MARGIN - 190, 230, 170)
    _draw_map(canvas, stops, map_box)
    legend = _(
        "Tick: A absent · O opened · R refused · L come back later · M moved · N do not visit"
    )
    y = map_box[1] - 18
    canvas.text(MARGIN, y, legend, size=8)
    y -= 18
    columns = [(MARGIN, "#"), (MARGIN + 22, _("Address")), (MARGIN + 170, _("Door")),
               (MARGIN + 260, _("Residents")), (MARGIN + 420, "A  O  R  L  M  N")]  # fmt: skip

    def header(top: float) -> float:
        for x, label in columns:
            canvas.text(x, top, label, size=8, bold=True)
        canvas.line(MARGIN, top - 4, PAGE_W - MARGIN, top - 4)
        return top - ROW_H

    y = header(y)
    for door in doors:
        if y < MARGIN + ROW_H:
            canvas.new_page()
            y = header(PAGE_H - MARGIN)
        b = door.building
        where = " · ".join(p for p in (door.entrance, door.floor, door.door) if p)
        names = ", ".join(r.person.display_name for r in door.residents.all())
        canvas.text(columns[0][0], y, str(numbers[b.pk]), size=8)
        canvas.text(columns[1][0], y, b.label[:34], size=8)
        canvas.text(columns[2][0], y, where[:20], size=8)
        canvas.text(columns[3][0], y, names[:36], size=8)
        for i in range(6):
            canvas.rect(columns[4][0] + i * 13, y - 1, 7, 7)
        canvas.line(MARGIN, y - 5, PAGE_W - MARGIN, y - 5, width=0.2)
        y -= ROW_H
    return canvas.render()


def as_response(turf: Turf) -> Any:
    from django.http import HttpResponse

    response = HttpResponse(walk_list_pdf(turf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="secteur-{turf.number}.pdf"'
    return response
