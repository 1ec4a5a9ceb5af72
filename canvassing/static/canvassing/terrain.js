/* The canvasser app: a turf in walking order, door cards, and results that survive no signal.

   The turf is stored on the phone (localStorage) when fetched; every result gets an id made here
   (crypto.randomUUID) and waits in a queue until the server answers it. Sending the queue twice
   is harmless: the server applies each id once. Conflicts and refusals stay visible. */
(function () {
  "use strict";
  var configNode = document.getElementById("terrain-config");
  if (!configNode) { return; }
  var config = JSON.parse(configNode.textContent);
  var S = config.strings;
  var TURF_KEY = "cocarde.turf." + config.turf;
  var QUEUE_KEY = "cocarde.queue";
  var NOTICES_KEY = "cocarde.notices";
  var stopsNode = document.querySelector("[data-stops]");
  var cardNode = document.querySelector("[data-card]");
  var statusNode = document.querySelector("[data-sync-status]");
  var conflictsNode = document.querySelector("[data-conflicts]");
  var mapNode = document.querySelector("[data-map]");
  var turf = null;
  var map = null;
  var syncing = false;

  function load(key, fallback) {
    try { var v = window.localStorage.getItem(key); return v ? JSON.parse(v) : fallback; }
    catch (e) { return fallback; }
  }
  function save(key, value) { window.localStorage.setItem(key, JSON.stringify(value)); }
  function uuid() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0; return (c === "x" ? r : (r & 0x3 | 0x8)).toString(16);
    });
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function queue() { return load(QUEUE_KEY, []); }
  function enqueue(record) {
    var q = queue(); q.push(record); save(QUEUE_KEY, q);
    showStatus(); renderStops(); sync();
  }
  function outcomeLabel(value) {
    var found = config.outcomes.filter(function (o) { return o.value === value; })[0];
    return found ? found.label : value;
  }

  /* --- status, notices ------------------------------------------------------------------- */
  function showStatus(text) {
    var pending = queue().length;
    if (text) { statusNode.textContent = text; }
    else if (pending) {
      statusNode.textContent = S.pending.replace("%(n)s", pending) +
        (navigator.onLine ? "" : " · " + S.offline);
    } else { statusNode.textContent = S.synced; }
    statusNode.setAttribute("data-pending", String(pending));
  }
  function showNotices() {
    var notices = load(NOTICES_KEY, []);
    conflictsNode.textContent = "";
    conflictsNode.hidden = !notices.length;
    notices.forEach(function (n, index) {
      var li = el("li", { "data-notice": n.status }, n.message);
      var close = el("button", { type: "button", "aria-label": "OK" }, "✕");
      close.addEventListener("click", function () {
        var all = load(NOTICES_KEY, []); all.splice(index, 1); save(NOTICES_KEY, all); showNotices();
      });
      li.appendChild(close);
      conflictsNode.appendChild(li);
    });
  }

  /* --- sync -------------------------------------------------------------------------------- */
  function sync() {
    var pending = queue();
    if (syncing || !pending.length || !navigator.onLine) { showStatus(); return; }
    syncing = true;
    showStatus(S.syncing);
    var sent = pending.slice(0, 200);
    fetch(config.syncUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ records: sent })
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) {
        showStatus(S.signin); throw new Error("login");
      }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (body) {
      var answered = {};
      var notices = load(NOTICES_KEY, []);
      body.results.forEach(function (r) {
        if (!r.uuid) { return; }
        answered[r.uuid] = true;
        if ((r.status === "conflict" || r.status === "rejected") && r.message && !r.duplicate) {
          notices.push({ status: r.status, message: r.message });
        }
        if (r.door && turf) { adoptDoor(r.door); }
      });
      save(NOTICES_KEY, notices);
      save(QUEUE_KEY, queue().filter(function (rec) { return !answered[rec.uuid]; }));
      syncing = false;
      showNotices(); showStatus(); renderStops();
      if (queue().length) { sync(); } else { refresh(); }
    }).catch(function () {
      syncing = false;
      if (statusNode.textContent === S.syncing) { showStatus(); }
    });
  }

  function adoptDoor(door) {
    turf.stops.forEach(function (stop) {
      stop.doors.forEach(function (d) {
        if (d.id === door.id) { d.entrance = door.entrance; d.floor = door.floor; d.door = door.door; d.version = door.version; }
      });
    });
    save(TURF_KEY, turf);
  }

  function refresh() {
    if (!navigator.onLine) { return; }
    fetch(config.dataUrl, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (data) {
      turf = data; save(TURF_KEY, data); render();
    }).catch(function () {});
  }

  /* --- list, map ----------------------------------------------------------------------------- */
  function localResult(doorId) {
    var found = null;
    queue().forEach(function (rec) {
      if (rec.kind === "visit" && String(rec.door) === String(doorId)) { found = rec; }
    });
    return found;
  }

  function doorLabel(d) {
    return [d.entrance, d.floor, d.door].filter(Boolean).join(" · ");
  }

  function renderStops() {
    if (!turf) { return; }
    stopsNode.textContent = "";
    turf.stops.forEach(function (stop, index) {
      var li = el("li", { "class": "terrain-stop", "data-stop": stop.id });
      li.appendChild(el("h2", {}, (index + 1) + ". " + stop.label));
      if (stop.access) { li.appendChild(el("p", { "class": "terrain-hint" }, stop.access)); }
      var doors = el("ul", { "class": "terrain-doors" });
      stop.doors.forEach(function (d) {
        var local = localResult(d.id);
        var names = d.people.map(function (p) { return p.name; }).join(", ");
        var button = el("button", { type: "button", "class": "terrain-door", "data-door": d.id });
        button.appendChild(el("span", { "class": "terrain-door__where" }, doorLabel(d) || "—"));
        button.appendChild(el("span", { "class": "terrain-door__who" }, names));
        var state = local ? outcomeLabel(local.outcome) + " ⏳" :
          (d.last_visit ? outcomeLabel(d.last_visit.outcome) : "");
        if (d.do_not_visit) { state = S.doNotVisit; button.classList.add("is-blocked"); }
        button.appendChild(el("span", { "class": "terrain-door__state", "data-door-state": "" }, state));
        if (local || d.last_visit) { button.classList.add("is-done"); }
        button.addEventListener("click", function () { openDoor(stop, d); });
        doors.appendChild(el("li")).appendChild(button);
      });
      li.appendChild(doors);
      var actions = el("div", { "class": "terrain-stop__actions" });
      var add = el("button", { type: "button", "class": "terrain-link", "data-new-contact": stop.id }, S.newContact);
      add.addEventListener("click", function () { openContact(stop); });
      var addDoor = el("button", { type: "button", "class": "terrain-link", "data-add-door": stop.id }, S.addDoor);
      addDoor.addEventListener("click", function () { openAddDoor(stop); });
      actions.appendChild(add); actions.appendChild(addDoor);
      li.appendChild(actions);
      stopsNode.appendChild(li);
    });
  }

  function renderMap() {
    if (!window.L || !turf || mapNode.hidden) { return; }
    if (!map) {
      map = L.map(mapNode);
      if (config.tileUrl) {
        L.tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(map);
      }
    }
    map.eachLayer(function (layer) { if (!(layer instanceof L.TileLayer)) { map.removeLayer(layer); } });
    var points = turf.stops.map(function (s) { return [s.lat, s.lon]; });
    if (!points.length) { return; }
    L.polyline(points, { color: "#1d3557", weight: 3, opacity: 0.6 }).addTo(map);
    turf.stops.forEach(function (s, i) {
      var done = s.doors.every(function (d) { return d.last_visit || localResult(d.id) || d.do_not_visit; });
      L.circleMarker([s.lat, s.lon], { radius: 9, color: done ? "#2a9d8f" : "#e63946", fillOpacity: 0.8 })
        .bindTooltip(String(i + 1) + ". " + s.label).addTo(map);
    });
    map.fitBounds(points, { padding: [20, 20], maxZoom: 18 });
  }

  function render() {
    var instructions = document.querySelector("[data-instructions]");
    if (turf.campaign.instructions) {
      instructions.hidden = false;
      instructions.querySelector("p").textContent = turf.campaign.instructions;
    }
    renderStops(); renderMap(); showStatus(); showNotices();
  }

  /* --- cards ---------------------------------------------------------------------------------- */
  function closeCard() { cardNode.hidden = true; cardNode.textContent = ""; }

  function field(label, input) {
    var wrap = el("label", { "class": "terrain-field" }, label);
    wrap.appendChild(input);
    return wrap;
  }

  function consentBlock(prefix) {
    var text = turf.campaign.consent_text;
    var box = el("fieldset", { "class": "terrain-consent" });
    if (!text) { return { node: box, value: function () { return null; } }; }
    box.appendChild(el("legend", {}, S.consent));
    box.appendChild(el("p", { "class": "terrain-consent__text", "data-consent-text": "" }, text));
    var channels = [["email", S.channelEmail], ["sms", S.channelSms], ["phone", S.channelPhone]];
    var inputs = channels.map(function (c) {
      var input = el("input", { type: "checkbox", name: prefix + "consent", value: c[0] });
      var label = el("label", { "class": "terrain-check" });
      label.appendChild(input); label.appendChild(document.createTextNode(" " + c[1]));
      box.appendChild(label);
      return input;
    });
    return {
      node: box,
      value: function () {
        var chosen = inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
        return chosen.length ? { channels: chosen, text: text } : null;
      }
    };
  }

  function surveyBlock() {
    var box = el("div", { "class": "terrain-survey" });
    var inputs = {};
    (turf.campaign.survey || []).forEach(function (q) {
      var input;
      if (q.type === "yes_no" || q.type === "choice") {
        input = el("select", { name: "q_" + q.key, "data-question": q.key });
        input.appendChild(el("option", { value: "" }, ""));
        var options = q.type === "choice" ? q.choices.map(function (c) { return [c, c]; }) :
          [["true", S.yes], ["false", S.no]];
        options.forEach(function (o) { input.appendChild(el("option", { value: o[0] }, o[1])); });
      } else if (q.type === "scale") {
        input = el("input", { type: "number", min: "1", max: "5", name: "q_" + q.key, "data-question": q.key });
      } else {
        input = el("input", { type: "text", name: "q_" + q.key, "data-question": q.key });
      }
      var wrap = field(q.label, input);
      wrap.setAttribute("data-question-wrap", q.key);
      inputs[q.key] = { q: q, input: input, wrap: wrap };
      box.appendChild(wrap);
    });
    function value(key) {
      var item = inputs[key]; var v = item.input.value;
      if (v === "") { return null; }
      if (item.q.type === "yes_no") { return v === "true"; }
      if (item.q.type === "scale") { return parseInt(v, 10); }
      return v;
    }
    function update() {  // branching: a question shows when its condition holds
      Object.keys(inputs).forEach(function (key) {
        var cond = inputs[key].q.show_if;
        inputs[key].wrap.hidden = !!cond && value(cond.question) !== cond.equals;
      });
    }
    box.addEventListener("change", update);
    update();
    return {
      node: box,
      value: function () {
        var out = {};
        Object.keys(inputs).forEach(function (key) {
          if (!inputs[key].wrap.hidden && value(key) !== null) { out[key] = value(key); }
        });
        return out;
      }
    };
  }

  function openDoor(stop, d) {
    cardNode.textContent = "";
    cardNode.hidden = false;
    cardNode.appendChild(el("h2", {}, stop.label + (doorLabel(d) ? " · " + doorLabel(d) : "")));
    // Previous visits, newest first (a turf stored before the history was sent has only the last).
    var visits = d.visits || (d.last_visit ? [d.last_visit] : []);
    if (visits.length) {
      var history = el("section", { "class": "terrain-history", "data-history": "" });
      history.appendChild(el("h3", {}, S.previous));
      var list = el("ul", {});
      visits.forEach(function (v) {
        var parts = [v.at.slice(0, 10), outcomeLabel(v.outcome)];
        if (v.by) { parts.push(v.by); }
        list.appendChild(el("li", { "data-visit": "" }, parts.join(" · ")));
      });
      history.appendChild(list);
      cardNode.appendChild(history);
    }
    var who = el("select", { name: "person", "data-person": "" });
    who.appendChild(el("option", { value: "" }, S.nobody));
    d.people.forEach(function (p) { who.appendChild(el("option", { value: p.id }, p.name)); });
    cardNode.appendChild(field(S.who, who));
    var survey = surveyBlock();
    cardNode.appendChild(survey.node);
    var support = el("select", { name: "support_level", "data-support": "" });
    support.appendChild(el("option", { value: "" }, S.none));
    [1, 2, 3, 4, 5].forEach(function (n) { support.appendChild(el("option", { value: String(n) }, String(n))); });
    cardNode.appendChild(field(S.support, support));
    var consent = consentBlock("door-");
    cardNode.appendChild(consent.node);
    var note = el("textarea", { name: "note", rows: "2" });
    cardNode.appendChild(field(S.note, note));
    var outcomes = el("fieldset", { "class": "terrain-outcomes" });
    outcomes.appendChild(el("legend", {}, S.outcome));
    config.outcomes.forEach(function (o) {
      var b = el("button", { type: "button", "class": "terrain-button", "data-outcome": o.value }, o.label);
      b.addEventListener("click", function () {
        var record = {
          uuid: uuid(), kind: "visit", door: d.id, outcome: o.value, at: new Date().toISOString(),
          person: who.value || null, answers: survey.value(),
          support_level: support.value ? parseInt(support.value, 10) : null,
          note: note.value
        };
        var c = consent.value();
        if (c && who.value) { record.consent = c; }
        closeCard();
        enqueue(record);
      });
      outcomes.appendChild(b);
    });
    cardNode.appendChild(outcomes);
    // Correct the door (stair, floor, door number) as found in the field.
    if (typeof d.id === "number") {
      var fix = el("details", { "class": "terrain-fix" });
      fix.appendChild(el("summary", {}, S.fixDoor));
      var fixInputs = {};
      [["entrance", S.entrance], ["floor", S.floor], ["door", S.door]].forEach(function (f) {
        fixInputs[f[0]] = el("input", { type: "text", name: "fix-" + f[0], value: d[f[0]] || "" });
        fix.appendChild(field(f[1], fixInputs[f[0]]));
      });
      var fixSave = el("button", { type: "button", "class": "terrain-button terrain-button--secondary", "data-fix-door": "" }, S.save);
      fixSave.addEventListener("click", function () {
        var r = { uuid: uuid(), kind: "door", id: d.id, version: d.version, at: new Date().toISOString() };
        Object.keys(fixInputs).forEach(function (k) { r[k] = fixInputs[k].value.trim(); d[k] = r[k]; });
        save(TURF_KEY, turf);
        closeCard();
        enqueue(r);
      });
      fix.appendChild(fixSave);
      cardNode.appendChild(fix);
    }
    var cancel = el("button", { type: "button", "class": "terrain-link" }, S.cancel);
    cancel.addEventListener("click", closeCard);
    cardNode.appendChild(cancel);
    cardNode.scrollIntoView({ block: "start" });
  }

  function openContact(stop) {
    cardNode.textContent = "";
    cardNode.hidden = false;
    cardNode.appendChild(el("h2", {}, S.newContact + " · " + stop.label));
    var doorSelect = el("select", { name: "door" });
    stop.doors.forEach(function (d) { doorSelect.appendChild(el("option", { value: d.id }, doorLabel(d) || stop.label)); });
    cardNode.appendChild(field(S.door, doorSelect));
    var inputs = {};
    [["first_names", S.firstNames, "text"], ["last_name", S.lastName, "text"],
     ["email", S.email, "email"], ["phone", S.phone, "tel"]].forEach(function (f) {
      inputs[f[0]] = el("input", { type: f[2], name: f[0] });
      cardNode.appendChild(field(f[1], inputs[f[0]]));
    });
    var consent = consentBlock("contact-");
    cardNode.appendChild(consent.node);
    var note = el("textarea", { name: "note", rows: "2" });
    cardNode.appendChild(field(S.note, note));
    var error = el("p", { "class": "terrain-error", role: "alert" });
    cardNode.appendChild(error);
    var ok = el("button", { type: "button", "class": "terrain-button", "data-save-contact": "" }, S.save);
    ok.addEventListener("click", function () {
      var r = { uuid: uuid(), kind: "contact", door: doorSelect.value, at: new Date().toISOString(), note: note.value };
      Object.keys(inputs).forEach(function (k) { r[k] = inputs[k].value.trim(); });
      if (!(r.first_names || r.last_name) || !(r.email || r.phone)) { error.textContent = S.needName; return; }
      var c = consent.value(); if (c) { r.consent = c; }
      closeCard();
      enqueue(r);
    });
    cardNode.appendChild(ok);
    var cancel = el("button", { type: "button", "class": "terrain-link" }, S.cancel);
    cancel.addEventListener("click", closeCard);
    cardNode.appendChild(cancel);
  }

  function openAddDoor(stop) {
    cardNode.textContent = "";
    cardNode.hidden = false;
    cardNode.appendChild(el("h2", {}, S.addDoor + " · " + stop.label));
    var inputs = {};
    [["entrance", S.entrance], ["floor", S.floor], ["door", S.door]].forEach(function (f) {
      inputs[f[0]] = el("input", { type: "text", name: f[0] });
      cardNode.appendChild(field(f[1], inputs[f[0]]));
    });
    var ok = el("button", { type: "button", "class": "terrain-button" }, S.save);
    ok.addEventListener("click", function () {
      var r = { uuid: uuid(), kind: "door", building: stop.id, at: new Date().toISOString() };
      Object.keys(inputs).forEach(function (k) { r[k] = inputs[k].value.trim(); });
      // Shown at once; visits to it name it by its client id until the server numbers it.
      stop.doors.push({ id: r.uuid, entrance: r.entrance, floor: r.floor, door: r.door, people: [], version: 1 });
      save(TURF_KEY, turf);
      closeCard();
      enqueue(r);
    });
    cardNode.appendChild(ok);
  }

  /* --- start ---------------------------------------------------------------------------------- */
  document.querySelectorAll("[data-tab]").forEach(function (tab) {
    tab.addEventListener("click", function () {
      var showMap = tab.getAttribute("data-tab") === "map";
      document.querySelectorAll("[data-tab]").forEach(function (t) { t.setAttribute("aria-selected", String(t === tab)); });
      mapNode.hidden = !showMap; stopsNode.hidden = showMap;
      renderMap();
      if (map) { map.invalidateSize(); }
    });
  });
  document.querySelector("[data-sync-now]").addEventListener("click", sync);
  window.addEventListener("online", sync);
  window.addEventListener("offline", function () { showStatus(); });
  window.setInterval(sync, 30000);
  if ("serviceWorker" in navigator && config.swUrl) {
    navigator.serviceWorker.register(config.swUrl, { scope: "/terrain/" }).catch(function () {});
  }
  turf = load(TURF_KEY, null);
  if (turf) { render(); }
  if (navigator.onLine) {
    fetch(config.dataUrl, { credentials: "same-origin" }).then(function (r) {
      if (r.status === 404) { window.localStorage.removeItem(TURF_KEY); throw new Error("gone"); }
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    }).then(function (data) { turf = data; save(TURF_KEY, data); render(); sync(); })
      .catch(function () { showStatus(); });
  }
}());
