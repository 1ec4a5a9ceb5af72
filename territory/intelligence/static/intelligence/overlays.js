/* Data layers over the territory map: a toggle and a legend entry per layer, a popup with the
   row's fields. Loaded by the map page through territory.extensions. */
(function () {
  "use strict";
  var map = window.territoryMap;
  var configNode = document.getElementById("territory-config");
  if (!map || !configNode || !window.L) { return; }
  var config = JSON.parse(configNode.textContent);
  var overlays = config.overlays || [];
  if (!overlays.length) { return; }

  function popup(properties) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = properties.label || "";
    box.appendChild(title);
    var list = document.createElement("dl");
    Object.keys(properties.fields || {}).forEach(function (key) {
      var value = properties.fields[key];
      if (value === "" || value === null) { return; }
      var dt = document.createElement("dt"); dt.textContent = key;
      var dd = document.createElement("dd"); dd.textContent = value;
      list.appendChild(dt); list.appendChild(dd);
    });
    box.appendChild(list);
    return box;
  }

  var control = L.control({ position: "topright" });
  control.onAdd = function () {
    var div = L.DomUtil.create("div", "intelligence-overlays");
    div.setAttribute("data-overlays", "");
    L.DomEvent.disableClickPropagation(div);
    overlays.forEach(function (overlay) {
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.setAttribute("data-overlay", overlay.name);
      var swatch = document.createElement("span");
      swatch.className = "intelligence-swatch";
      swatch.style.background = overlay.color;
      label.appendChild(box); label.appendChild(swatch);
      label.appendChild(document.createTextNode(overlay.name));
      div.appendChild(label);
      var layer = null;
      box.addEventListener("change", function () {
        if (!box.checked) { if (layer) { map.removeLayer(layer); } return; }
        if (layer) { layer.addTo(map); return; }
        fetch(overlay.url, { credentials: "same-origin" })
          .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
          .then(function (data) {
            layer = L.geoJSON(data, {
              style: function () { return { color: overlay.color, weight: 2, fillOpacity: 0.25 }; },
              pointToLayer: function (feature, latlng) {
                return L.circleMarker(latlng, { radius: 6, color: "#222", weight: 1,
                  fillColor: overlay.color, fillOpacity: 0.9 });
              },
              onEachFeature: function (feature, featureLayer) {
                featureLayer.bindPopup(popup(feature.properties));
              }
            }).addTo(map);
            label.setAttribute("data-loaded", String(data.features.length));
          });
      });
    });
    return div;
  };
  control.addTo(map);
})();
