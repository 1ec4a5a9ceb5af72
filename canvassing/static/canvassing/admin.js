/* Planning map (turfs by colour, progress, click to redraw) and the area drawing of the form. */
(function () {
  "use strict";
  if (!window.L) { return; }
  var COLOURS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
                 "#bcf60c", "#008080", "#9a6324", "#800000", "#808000", "#000075", "#808080"];
  function base(node, tileUrl) {
    var map = L.map(node);
    map.setView([46.6, 2.4], 6);
    if (tileUrl) { L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(map); }
    return map;
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  var planning = document.querySelector("[data-planning-map]");
  if (planning) {
    var config = JSON.parse(document.getElementById("canvassing-map-config").textContent);
    var map = base(planning, config.tileUrl);
    var layer = L.layerGroup().addTo(map);
    var moveTo = document.querySelector("[data-move-to]");
    var fitted = false;
    var load = function () {
      fetch(config.dataUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
        layer.clearLayers();
        var index = {};
        data.turfs.forEach(function (t, i) { index[t.id] = { colour: COLOURS[i % COLOURS.length], number: t.number }; });
        var bounds = [];
        data.buildings.forEach(function (b) {
          var turf = index[b.turf] || { colour: "#999", number: "–" };
          var marker = L.circleMarker([b.lat, b.lon], {
            radius: 4 + Math.min(b.doors, 20) / 4, color: turf.colour,
            fillOpacity: b.doors ? 0.15 + 0.85 * b.visited / b.doors : 0.15
          }).bindTooltip(b.label + " · " + b.doors + " · #" + turf.number);
          marker.on("click", function () {
            if (!moveTo.value) { return; }
            var body = new URLSearchParams({ turf: moveTo.value, building: String(b.id) });
            fetch(config.moveUrl, { method: "POST", credentials: "same-origin", body: body,
              headers: { "X-CSRFToken": csrf() } }).then(load);
          });
          marker.addTo(layer);
          bounds.push([b.lat, b.lon]);
        });
        if (bounds.length && !fitted) { map.fitBounds(bounds, { padding: [20, 20] }); fitted = true; }
      });
    };
    load();
  }

  var areaNode = document.querySelector("[data-area-map]");
  if (areaNode) {
    var input = document.querySelector("[name=area]");
    var amap = base(areaNode, null);
    var points = [];
    try { points = JSON.parse(input.value || "[]"); } catch (e) { points = []; }
    var shape = L.polygon([], { color: "#1d3557" }).addTo(amap);
    var draw = function () {
      shape.setLatLngs(points.map(function (p) { return [p.lat, p.lon]; }));
      input.value = JSON.stringify(points);
      if (points.length > 1) { amap.fitBounds(shape.getBounds(), { maxZoom: 17 }); }
    };
    amap.on("click", function (e) {
      points.push({ lat: Math.round(e.latlng.lat * 1e6) / 1e6, lon: Math.round(e.latlng.lng * 1e6) / 1e6 });
      draw();
    });
    draw();
  }
}());
