/* The territory map: bureaux de vote coloured by an indicator, a legend, a card per bureau.
   Works without tiles (no network): the contours are our own data. */
(function () {
  "use strict";
  var configNode = document.getElementById("territory-config");
  var mapNode = document.getElementById("territory-map");
  if (!configNode || !mapNode || !window.L) { return; }
  var config = JSON.parse(configNode.textContent);
  var card = document.getElementById("territory-card");
  var note = document.querySelector("[data-territory-note]");
  var select = document.querySelector("[data-territory-indicator]");
  var campaignSelect = document.querySelector("[data-territory-campaign]");

  var map = L.map(mapNode, { preferCanvas: false, zoomSnap: 0.25 });
  map.setView([46.6, 2.4], 6);
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(map);
  }
  window.territoryMap = map;  // other apps' scripts (territory.extensions) add overlays
  var layer = null;
  var fitted = false;
  var selectedId = null;

  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    this._div = L.DomUtil.create("div", "territory-legend");
    return this._div;
  };
  legend.update = function (data) {
    var div = this._div;
    div.textContent = "";
    var title = document.createElement("strong");
    title.textContent = data.label || "";
    div.appendChild(title);
    var items = data.legend.concat([{ color: "#d9d9d9", label: config.noData }]);
    items.forEach(function (item) {
      var row = document.createElement("div");
      row.className = "territory-legend__row";
      var swatch = document.createElement("span");
      swatch.className = "territory-legend__swatch";
      swatch.style.background = item.color;
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(item.label));
      div.appendChild(row);
    });
  };
  legend.addTo(map);

  function style(feature) {
    var p = feature.properties;
    var selected = p.id === selectedId;
    return {
      color: selected ? "#111" : "#444",
      weight: selected ? 3 : 1,
      dashArray: p.approximate ? "4 3" : null,
      fillColor: p.color || "#d9d9d9",
      fillOpacity: 0.75
    };
  }

  function openCard(id) {
    selectedId = id;
    if (layer) { layer.setStyle(style); }
    var url = config.cardUrl.replace(/\/0\/$/, "/" + id + "/");
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) { card.innerHTML = html; card.dataset.loaded = String(id); });
  }

  function load(indicator) {
    var query = new URLSearchParams(config.scoreQuery || "");
    query.set("indicator", indicator);
    mapNode.dataset.loading = "true";
    fetch(config.dataUrl + "?" + query.toString(), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        if (layer) { map.removeLayer(layer); }
        layer = L.geoJSON(data, {
          style: style,
          onEachFeature: function (feature, featureLayer) {
            var p = feature.properties;
            featureLayer.bindTooltip(p.number + " · " + p.name + " — " + p.display, { sticky: true });
            featureLayer.on("click", function () { openCard(p.id); });
            if (featureLayer.getElement && featureLayer.getElement()) {
              featureLayer.getElement().setAttribute("data-bureau", p.code);
            }
          }
        }).addTo(map);
        layer.eachLayer(function (l) {
          var el = l.getElement && l.getElement();
          if (el) {
            el.setAttribute("data-bureau", l.feature.properties.code);
            el.setAttribute("data-color", l.feature.properties.color || "");
          }
        });
        if (!fitted && data.features.length) {
          map.fitBounds(layer.getBounds(), { padding: [12, 12] });
          fitted = true;
        }
        legend.update(data);
        if (note) {
          note.hidden = !data.without_contour;
          note.textContent = config.withoutContour.replace("%(count)s", data.without_contour);
        }
        mapNode.dataset.indicator = indicator;
        mapNode.dataset.loading = "false";
      })
      .catch(function () { mapNode.dataset.loading = "error"; });
  }

  if (select) {
    select.addEventListener("change", function () {
      var url = new URL(window.location.href);
      url.searchParams.set("indicator", select.value);
      window.history.replaceState(null, "", url.toString());
      load(select.value);
    });
  }
  if (campaignSelect) {
    campaignSelect.addEventListener("change", function () { campaignSelect.form.submit(); });
  }
  /* Our people: clusters computed by the server at low zoom, points at high zoom, reloaded for
     the viewport after each move. Not interactive: only positions and counts come back. */
  var peopleSelect = document.querySelector("[data-territory-people]");
  var peopleLayer = L.layerGroup().addTo(map);
  var peopleRequest = 0;
  function loadPeople() {
    var segment = peopleSelect ? peopleSelect.value : "";
    peopleLayer.clearLayers();
    if (!segment) { delete mapNode.dataset.people; return; }
    var b = map.getBounds();
    var query = new URLSearchParams({
      segment: segment,
      zoom: String(Math.round(map.getZoom())),
      bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
        return v.toFixed(6);
      }).join(",")
    });
    var ticket = ++peopleRequest;
    mapNode.dataset.people = "loading";
    fetch(config.peopleUrl + "?" + query.toString(), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        if (ticket !== peopleRequest) { return; }
        peopleLayer.clearLayers();
        if (data.mode === "points") {
          data.points.forEach(function (p) {
            L.circleMarker([p[1], p[0]], {
              radius: 4, color: "#fff", weight: 1, fillColor: "#6a1b9a", fillOpacity: 0.9,
              interactive: false, className: "territory-person"
            }).addTo(peopleLayer);
          });
        } else {
          data.clusters.forEach(function (c) {
            var n = c[2];
            var size = Math.round(22 + 8 * Math.log10(n));
            var marker = L.marker([c[1], c[0]], {
              keyboard: false,
              title: config.peopleLabel.replace("%(count)s", n),
              icon: L.divIcon({
                className: "territory-cluster",
                html: "<span>" + n + "</span>",
                iconSize: [size, size]
              })
            }).addTo(peopleLayer);
            // A click zooms in on the cluster: the server splits it at the next zoom levels.
            marker.on("click", function () {
              map.setView([c[1], c[0]], Math.min(map.getZoom() + 2, 18), { animate: false });
            });
          });
        }
        mapNode.dataset.peopleMode = data.mode;
        mapNode.dataset.peopleTotal = String(data.total);
        mapNode.dataset.people = "loaded";
      })
      .catch(function () { mapNode.dataset.people = "error"; });
  }
  if (peopleSelect) {
    peopleSelect.addEventListener("change", loadPeople);
    map.on("moveend", function () { if (peopleSelect.value) { loadPeople(); } });
  }

  if (config.indicator) { load(config.indicator); }
  window.addEventListener("resize", function () { map.invalidateSize(); });
})();
