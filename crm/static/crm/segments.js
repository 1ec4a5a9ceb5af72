/* The segment filter builder: a tree of AND / OR groups of criteria, each criterion or group
 * can be excluded (NOT). The page holds the catalogue of criteria (JSON, from the server); the
 * tree is serialised to the JSON the server validates, and the count is refreshed live
 * (debounced, stale requests cancelled). No framework, no inline script (CSP). */
(function () {
  "use strict";

  var root = document.querySelector("[data-segment-builder]");
  if (!root) return;
  var config = JSON.parse(document.getElementById("segment-builder-config").textContent);
  var labels = JSON.parse(document.getElementById("segment-builder-labels").textContent);
  var form = document.querySelector("[data-segment-form]");
  var countEl = document.querySelector("[data-segment-count]");
  var sampleEl = document.querySelector("[data-segment-sample]");
  var errorsEl = document.querySelector("[data-segment-errors]");
  var hidden = document.querySelector("[data-segment-criteria]");
  var catalogue = {};
  config.catalogue.criteria.forEach(function (c) { catalogue[c.name] = c; });
  var DEBOUNCE_MS = 400;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function csrfToken() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* --- parameters ------------------------------------------------------------------------ */

  function option(value, label, selected) {
    var node = el("option", { value: String(value), text: label });
    if (selected) node.selected = true;
    return node;
  }

  function paramWidget(spec, value) {
    var wrapper = el("label", { className: "seg-param", "data-param": spec.name, "data-kind": spec.kind });
    wrapper.appendChild(el("span", { className: "seg-param__label", text: spec.label }));
    var input;
    var has = value !== undefined && value !== null && value !== "";
    if (!has && spec.default !== undefined) { value = spec.default; has = true; }
    if (spec.kind === "choice" || spec.kind === "boolean") {
      input = el("select", { name: spec.name });
      if (!spec.required || spec.default === undefined) input.appendChild(option("", labels.any, !has));
      var choices = spec.kind === "boolean" ? [[true, labels.yes], [false, labels.no]] : spec.choices;
      choices.forEach(function (c) { input.appendChild(option(c[0], c[1], has && String(c[0]) === String(value))); });
    } else if (spec.kind === "multichoice") {
      input = el("select", { name: spec.name, multiple: "multiple", size: String(Math.min(6, Math.max(2, spec.choices.length))) });
      var chosen = (Array.isArray(value) ? value : has ? [value] : []).map(String);
      spec.choices.forEach(function (c) { input.appendChild(option(c[0], c[1], chosen.indexOf(String(c[0])) >= 0)); });
    } else if (spec.kind === "integer" || spec.kind === "decimal") {
      input = el("input", { type: "number", name: spec.name, step: spec.kind === "integer" ? "1" : "any" });
      if (spec.min !== undefined) input.min = spec.min;
      if (spec.max !== undefined) input.max = spec.max;
      if (has) input.value = value;
      if (spec.suggestions && spec.suggestions.length) {
        var listId = "seg-suggest-" + Math.random().toString(36).slice(2);
        input.setAttribute("list", listId);
        var datalist = el("datalist", { id: listId });
        spec.suggestions.forEach(function (s) { datalist.appendChild(option(s[0], s[1])); });
        wrapper.appendChild(datalist);
      }
    } else if (spec.kind === "date") {
      input = el("input", { type: "date", name: spec.name });
      if (has) input.value = value;
    } else if (spec.kind === "codes") {
      input = el("input", { type: "text", name: spec.name, placeholder: spec.placeholder || "" });
      if (has) input.value = Array.isArray(value) ? value.join(", ") : value;
      if (spec.suggestions && spec.suggestions.length) {
        var picker = el("select", { className: "seg-suggest", "aria-label": labels.suggestions });
        picker.appendChild(option("", labels.suggestions, true));
        spec.suggestions.forEach(function (s) { picker.appendChild(option(s[0], s[1])); });
        picker.addEventListener("change", function () {
          if (!picker.value) return;
          var codes = input.value.split(/[\s,;]+/).filter(Boolean);
          if (codes.indexOf(picker.value) < 0) codes.push(picker.value);
          input.value = codes.join(", ");
          picker.value = "";
          input.dispatchEvent(new Event("input", { bubbles: true }));
        });
        wrapper.appendChild(input);
        wrapper.appendChild(picker);
        return wrapper;
      }
    } else if (spec.kind === "point") {
      input = el("span", { className: "seg-point" }, [
        el("input", { type: "number", step: "any", name: spec.name + "_lat", placeholder: labels.lat, "aria-label": labels.lat }),
        el("input", { type: "number", step: "any", name: spec.name + "_lon", placeholder: labels.lon, "aria-label": labels.lon }),
      ]);
      if (has) { input.children[0].value = value.lat; input.children[1].value = value.lon; }
    } else if (spec.kind === "polygon") {
      input = el("textarea", { name: spec.name, rows: "4", placeholder: labels.polygon_help });
      if (has) input.value = value.map(function (p) { return (p.lat !== undefined ? [p.lat, p.lon] : p).join(", "); }).join("\n");
    } else {
      input = el("input", { type: "text", name: spec.name });
      if (has) input.value = value;
    }
    if (spec.help) wrapper.title = spec.help;
    wrapper.appendChild(input);
    return wrapper;
  }

  function paramValue(wrapper) {
    var kind = wrapper.dataset.kind;
    if (kind === "point") {
      var inputs = wrapper.querySelectorAll("input");
      if (!inputs[0].value || !inputs[1].value) return undefined;
      return { lat: inputs[0].value, lon: inputs[1].value };
    }
    if (kind === "polygon") {
      var text = wrapper.querySelector("textarea").value.trim();
      if (!text) return undefined;
      return text.split(/\n+/).map(function (line) {
        return line.split(/[;,\s]+/).filter(Boolean);
      });
    }
    if (kind === "multichoice") {
      var values = Array.prototype.filter.call(wrapper.querySelector("select").options, function (o) { return o.selected; })
        .map(function (o) { return o.value; });
      return values.length ? values : undefined;
    }
    var field = wrapper.querySelector("input, select, textarea");
    if (field.value === "") return undefined;
    if (kind === "boolean") return field.value === "true";
    return field.value;
  }

  /* --- tree ------------------------------------------------------------------------------ */

  function criterionSelect(selected) {
    var select = el("select", { className: "seg-criterion", "aria-label": labels.criterion });
    select.appendChild(option("", labels.choose, !selected));
    var groups = {};
    config.catalogue.criteria.forEach(function (c) {
      if (!groups[c.group]) { groups[c.group] = el("optgroup", { label: c.group }); select.appendChild(groups[c.group]); }
      groups[c.group].appendChild(option(c.name, c.label, c.name === selected));
    });
    return select;
  }

  function negateToggle(negated) {
    var box = el("input", { type: "checkbox", className: "seg-negate" });
    box.checked = !!negated;
    return el("label", { className: "seg-negate-label" }, [box, el("span", { text: labels.exclude })]);
  }

  function leafNode(node, negated) {
    var name = node.criterion || "";
    var params = el("span", { className: "seg-params" });
    var select = criterionSelect(name);
    var leaf = el("li", { className: "seg-leaf", "data-criterion": name }, [
      select, params, negateToggle(negated),
      el("button", { type: "button", className: "button button-small button-secondary seg-remove", text: labels.remove }),
      el("span", { className: "seg-leaf__error", role: "alert" }),
    ]);
    function fill(values) {
      params.textContent = "";
      var spec = catalogue[leaf.dataset.criterion];
      if (!spec) return;
      if (spec.help) params.title = spec.help;
      spec.params.forEach(function (p) { params.appendChild(paramWidget(p, values[p.name])); });
    }
    select.addEventListener("change", function () { leaf.dataset.criterion = select.value; fill({}); });
    fill(node.params || {});
    return leaf;
  }

  function groupNode(node, negated, isRoot) {
    var op = el("select", { className: "seg-op", "aria-label": labels.combine }, [
      option("and", labels.and, node.op !== "or"),
      option("or", labels.or, node.op === "or"),
    ]);
    var children = el("ul", { className: "seg-children" });
    var header = el("div", { className: "seg-group__header" }, [
      op,
      isRoot ? null : negateToggle(negated),
      el("button", { type: "button", className: "button button-small seg-add", "data-add": "criterion", text: labels.add_criterion }),
      el("button", { type: "button", className: "button button-small button-secondary seg-add", "data-add": "group", text: labels.add_group }),
      isRoot ? null : el("button", { type: "button", className: "button button-small button-secondary seg-remove", text: labels.remove }),
      el("span", { className: "seg-leaf__error", role: "alert" }),
    ]);
    var group = el(isRoot ? "div" : "li", { className: "seg-group" + (isRoot ? " seg-group--root" : "") }, [header, children]);
    (node.children || []).forEach(function (child) { children.appendChild(build(child)); });
    return group;
  }

  function build(node, negated) {
    if (node.op === "not" && node.children && node.children.length === 1) {
      return build(node.children[0], !negated);
    }
    if (node.criterion !== undefined) return leafNode(node, negated);
    return groupNode(node, negated, false);
  }

  function negatedOf(item) {
    var box = item.querySelector(":scope > .seg-negate-label > .seg-negate, :scope > .seg-group__header > .seg-negate-label > .seg-negate");
    return box && box.checked;
  }

  /* Serialise the DOM into the criteria JSON, recording each element's path for errors. */
  function serialise(item, path) {
    var negated = negatedOf(item);
    var inner = negated ? path + (path ? "." : "") + "children.0" : path;
    var node;
    if (item.classList.contains("seg-leaf")) {
      item.dataset.path = inner;
      var params = {};
      item.querySelectorAll(":scope > .seg-params > .seg-param").forEach(function (w) {
        var value = paramValue(w);
        if (value !== undefined) params[w.dataset.param] = value;
      });
      node = { criterion: item.dataset.criterion, params: params };
    } else {
      item.dataset.path = inner;
      var op = item.querySelector(":scope > .seg-group__header > .seg-op").value;
      var kids = [];
      item.querySelectorAll(":scope > .seg-children > li").forEach(function (child) {
        if (child.classList.contains("seg-leaf") && !child.dataset.criterion) return; // not chosen yet
        kids.push(serialise(child, inner + (inner ? "." : "") + "children." + kids.length));
      });
      node = { op: op, children: kids };
    }
    return negated ? { op: "not", children: [node] } : node;
  }

  var rootGroup;
  function tree() {
    return serialise(rootGroup, "");
  }

  /* --- errors and live count --------------------------------------------------------------- */

  function clearErrors() {
    errorsEl.hidden = true;
    errorsEl.textContent = "";
    root.querySelectorAll(".seg-leaf__error").forEach(function (e) { e.textContent = ""; });
    root.querySelectorAll(".seg-has-error").forEach(function (e) { e.classList.remove("seg-has-error"); });
  }

  function showErrors(errors) {
    clearErrors();
    var global = [];
    errors.forEach(function (error) {
      var best = null;
      root.querySelectorAll("[data-path]").forEach(function (item) {
        var p = item.dataset.path;
        var matches = p === "" ? true : error.path === p || error.path.indexOf(p + ".") === 0;
        if (matches && (!best || p.length >= best.dataset.path.length)) best = item;
      });
      if (best && best !== rootGroup) {
        best.classList.add("seg-has-error");
        var slot = best.querySelector(":scope > .seg-leaf__error, :scope > .seg-group__header > .seg-leaf__error");
        slot.textContent = (slot.textContent ? slot.textContent + " " : "") + error.message;
      } else {
        global.push(error.message);
      }
    });
    if (global.length) { errorsEl.textContent = global.join(" "); errorsEl.hidden = false; }
  }

  var timer = null;
  var controller = null;
  var lastSent = null;

  function refresh() {
    var criteria = tree();
    var body = JSON.stringify({ campaign: config.campaign, segment: config.segment, criteria: criteria });
    if (body === lastSent) return;
    lastSent = body;
    if (controller) controller.abort();
    controller = new AbortController();
    countEl.textContent = labels.counting;
    delete countEl.dataset.count;
    countEl.parentNode.dataset.counting = "true";
    fetch(config.preview_url, {
      method: "POST",
      body: body,
      signal: controller.signal,
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": csrfToken(),
        "X-Requested-With": "XMLHttpRequest", // a refusal is a 403, not a redirect
      },
    })
      .then(function (response) { return response.json().then(function (data) { return { ok: response.ok, data: data }; }); })
      .then(function (result) {
        delete countEl.parentNode.dataset.counting;
        if (!result.ok || result.data.errors) {
          countEl.textContent = "—";
          showErrors(result.data.errors || [{ path: "", message: labels.error }]);
          return;
        }
        clearErrors();
        countEl.textContent = result.data.count_display;
        countEl.dataset.count = result.data.count;
        sampleEl.textContent = "";
        if (!result.data.sample.length) sampleEl.appendChild(el("li", { text: labels.nobody }));
        result.data.sample.forEach(function (row) {
          sampleEl.appendChild(el("li", { "data-person": row.id }, [
            el("a", { href: row.url, text: row.name }), document.createTextNode(" "), el("small", { text: row.commune }),
          ]));
        });
      })
      .catch(function (error) {
        if (error.name === "AbortError") return;
        delete countEl.parentNode.dataset.counting;
        countEl.textContent = "—";
        lastSent = null;
        showErrors([{ path: "", message: labels.error }]);
      });
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  }

  /* --- wiring ------------------------------------------------------------------------------- */

  var initial = config.criteria && config.criteria.op ? config.criteria : { op: "and", children: config.criteria && config.criteria.criterion ? [config.criteria] : [] };
  if (initial.op === "not") initial = { op: "and", children: [initial] };
  rootGroup = groupNode(initial, false, true);
  root.appendChild(rootGroup);

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (button.dataset.add) {
      var list = button.closest(".seg-group").querySelector(":scope > .seg-children");
      var added = button.dataset.add === "group" ? groupNode({ op: "and", children: [] }, false, false) : leafNode({}, false);
      list.appendChild(added);
      var focus = added.querySelector("select");
      if (focus) focus.focus();
    } else if (button.classList.contains("seg-remove")) {
      button.closest("li").remove();
    }
    schedule();
  });
  root.addEventListener("input", schedule);
  root.addEventListener("change", schedule);

  var campaignSelect = document.querySelector("[data-segment-campaign]");
  if (campaignSelect) {
    campaignSelect.addEventListener("change", function () {
      // The criteria offered (tags, fields, lists…) depend on the campaign: reload for it.
      var url = new URL(window.location.href);
      url.searchParams.set("campaign", campaignSelect.value);
      window.location.href = url.toString();
    });
  }

  form.addEventListener("submit", function () {
    hidden.value = JSON.stringify(tree());
  });

  tree(); // record paths
  if (config.errors && config.errors.length) showErrors(config.errors);
  refresh();
})();
