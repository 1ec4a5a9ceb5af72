/* Survey builder of door and phone campaigns: question cards over the survey script's JSON
 * textarea. The textarea stays the submitted value (rewritten on every change) and the no-JS
 * fallback; the server (canvassing.services.validate_survey) judges it. The page gives the
 * question types and every word, translated (json_script next to the textarea). No framework,
 * no inline script (CSP). */
(function () {
  "use strict";

  var KEY_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
  var KEY_MAX = 40;
  var SCALE = [1, 2, 3, 4, 5];
  var nextId = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === undefined || value === null || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function format(text, n) { return text.replace("{n}", String(n)); }

  /* A key from a label: "Irez-vous voter ?" -> "irez_vous_voter". */
  function slug(text) {
    var s = String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
    if (!s) s = "question";
    if (!/^[a-z]/.test(s)) s = "q_" + s;
    return s.slice(0, KEY_MAX).replace(/_+$/, "");
  }

  function init(field) {
    var source = field.querySelector("[data-survey-source]");
    var root = field.querySelector("[data-survey-builder]");
    var config = JSON.parse(document.getElementById(root.getAttribute("data-config")).textContent);
    var L = config.labels;
    var typeNames = {};
    config.types.forEach(function (t) { typeNames[t[0]] = t[1]; });

    var questions = load(source.value);
    if (questions === null) {
      source.parentNode.insertBefore(el("p", { className: "survey-unreadable", role: "alert", text: L.unreadable }), source);
      return;
    }

    /* --- the model ----------------------------------------------------------------------- */

    function load(text) {
      var data;
      if (!String(text || "").trim()) return [];
      try { data = JSON.parse(text); } catch (e) { return null; }
      if (!Array.isArray(data)) return null;
      var list = [];
      for (var i = 0; i < data.length; i++) {
        var raw = data[i];
        if (!raw || typeof raw !== "object" || Array.isArray(raw) || !typeNames[raw.type]) return null;
        var key = raw.key === undefined || raw.key === null ? "" : String(raw.key);
        list.push({
          id: ++nextId, key: key, keyLocked: key !== "", label: String(raw.label || ""), type: raw.type,
          choicesText: Array.isArray(raw.choices) ? raw.choices.map(String).join("\n") : "",
          rawShowIf: raw.show_if || null, showIf: null, advancedOpen: false
        });
      }
      for (var j = 0; j < list.length; j++) {
        var cond = list[j].rawShowIf;
        delete list[j].rawShowIf;
        if (!cond) continue;
        if (typeof cond !== "object") return null;
        var parent = list.filter(function (q) { return q.key === String(cond.question); })[0];
        if (!parent) return null;
        list[j].showIf = { parent: parent.id, equals: cond.equals };
      }
      return list;
    }

    function byId(id) { return questions.filter(function (q) { return q.id === id; })[0]; }
    function indexOf(q) { return questions.indexOf(q); }
    function choicesOf(q) {
      return q.choicesText.split("\n").map(function (c) { return c.trim(); }).filter(Boolean);
    }

    function uniqueKey(base, self) {
      var taken = function (key) { return questions.some(function (q) { return q !== self && q.key === key; }); };
      var key = base, n = 2;
      while (taken(key)) {
        var suffix = "_" + n++;
        key = base.slice(0, KEY_MAX - suffix.length).replace(/_+$/, "") + suffix;
      }
      return key;
    }

    /* What an earlier question's answers can be: [value, label], or null for free text. */
    function valuesOf(parent) {
      if (parent.type === "yes_no") return [[true, L.yes], [false, L.no]];
      if (parent.type === "scale") return SCALE.map(function (n) { return [n, String(n)]; });
      if (parent.type === "choice") return choicesOf(parent).map(function (c) { return [c, c]; });
      return null;
    }

    function serialize() {
      return questions.map(function (q) {
        var out = { key: q.key, label: q.label.trim(), type: q.type };
        if (q.type === "choice") out.choices = choicesOf(q);
        if (q.showIf) {
          var parent = byId(q.showIf.parent);
          out.show_if = { question: parent ? parent.key : "", equals: q.showIf.equals };
        }
        return out;
      });
    }

    function warningsOf(q) {
      var list = [];
      var i = indexOf(q);
      if (!q.label.trim()) list.push(L.warn_label);
      if (q.type === "choice" && choicesOf(q).length < 2) list.push(L.warn_choices);
      if (!KEY_PATTERN.test(q.key) || questions.some(function (o) { return o !== q && o.key === q.key; })) {
        list.push(L.warn_key);
      }
      if (q.showIf) {
        var parent = byId(q.showIf.parent);
        if (!parent || indexOf(parent) >= i) list.push(L.warn_order);
        else {
          var values = valuesOf(parent);
          if (values && !values.some(function (v) { return v[0] === q.showIf.equals; })) list.push(L.warn_value);
        }
      }
      return list;
    }

    /* Writes the JSON the form submits and refreshes the hints of every card. */
    function sync() {
      source.value = JSON.stringify(serialize(), null, 1);
      questions.forEach(function (q) {
        var card = root.querySelector('[data-qid="' + q.id + '"]');
        if (!card) return;
        var box = card.querySelector("[data-role=warnings]");
        box.textContent = "";
        warningsOf(q).forEach(function (text) { box.appendChild(el("li", { text: text })); });
        box.hidden = !box.childNodes.length;
      });
    }

    /* --- the view ------------------------------------------------------------------------ */

    var status = el("p", { className: "survey-sr-only", "aria-live": "polite", "data-role": "status" });
    var list = el("ol", { className: "survey-cards" });
    var addButton = el("button", { type: "button", className: "button button-secondary", "data-action": "add", text: L.add });
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", L.builder);
    root.appendChild(list);
    root.appendChild(addButton);
    root.appendChild(status);

    var announcing = null;
    function announce(text) {
      // Emptied first, so that the same words twice are announced twice.
      status.textContent = "";
      window.clearTimeout(announcing);
      announcing = window.setTimeout(function () { status.textContent = text; }, 50);
    }

    function labelled(text, control, className) {
      return el("label", { className: "survey-control" + (className ? " " + className : "") },
        [el("span", { className: "survey-control__label", text: text }), control]);
    }

    function option(value, text, selected) {
      var node = el("option", { value: value, text: text });
      if (selected) node.selected = true;
      return node;
    }

    function parentText(parent) {
      var text = parent.label.trim() || parent.key;
      return (indexOf(parent) + 1) + ". " + (text.length > 60 ? text.slice(0, 59) + "…" : text);
    }

    function conditionBlock(q) {
      var i = indexOf(q);
      var parentSelect = el("select", { "data-role": "parent" }, [option("", L.always, !q.showIf)]);
      questions.forEach(function (other, j) {
        var current = q.showIf && q.showIf.parent === other.id;
        if (other === q || (j >= i && !current)) return;
        var node = option(String(other.id), parentText(other), current);
        node.setAttribute("data-parent-option", String(other.id));
        parentSelect.appendChild(node);
      });
      var block = el("div", { className: "survey-condition", "data-role": "condition" },
        [labelled(L.condition, parentSelect)]);
      var parent = q.showIf && byId(q.showIf.parent);
      if (parent) {
        var values = valuesOf(parent);
        var control;
        if (values) {
          var known = values.some(function (v) { return v[0] === q.showIf.equals; });
          control = el("select", { "data-role": "equals" }, [option("", L.choose, !known)]);
          if (!known && q.showIf.equals !== undefined && q.showIf.equals !== null && q.showIf.equals !== "") {
            control.appendChild(option(JSON.stringify(q.showIf.equals), String(q.showIf.equals), true));
          }
          values.forEach(function (v) { control.appendChild(option(JSON.stringify(v[0]), v[1], v[0] === q.showIf.equals)); });
        } else {
          control = el("input", { type: "text", "data-role": "equals" });
          control.value = q.showIf.equals === undefined || q.showIf.equals === null ? "" : String(q.showIf.equals);
        }
        block.appendChild(labelled(L.equals, control));
      }
      return block;
    }

    function card(q, i) {
      var labelInput = el("input", { type: "text", "data-role": "label", maxlength: "500" });
      labelInput.value = q.label;
      var typeSelect = el("select", { "data-role": "type" });
      config.types.forEach(function (t) { typeSelect.appendChild(option(t[0], t[1], t[0] === q.type)); });
      var keyInput = el("input", { type: "text", "data-role": "key", maxlength: String(KEY_MAX), spellcheck: "false", autocomplete: "off" });
      keyInput.value = q.key;
      var keyHelpId = "survey-key-help-" + q.id;
      keyInput.setAttribute("aria-describedby", keyHelpId);

      var body = [
        el("legend", { text: format(L.question, i + 1) }),
        el("div", { className: "survey-row" }, [labelled(L.label, labelInput, "survey-control--wide"), labelled(L.type, typeSelect)])
      ];
      if (q.type === "choice") {
        var choices = el("textarea", { rows: "4", "data-role": "choices" });
        choices.value = q.choicesText;
        body.push(labelled(L.choices, choices));
      } else if (q.type === "scale") {
        body.push(el("p", { className: "help", text: L.scale }));
      }
      body.push(conditionBlock(q));
      var advanced = el("details", { className: "survey-advanced", "data-role": "advanced" }, [
        el("summary", { text: L.advanced }),
        labelled(L.key, keyInput),
        el("p", { className: "help", id: keyHelpId, text: L.key_help })
      ]);
      advanced.open = q.advancedOpen;
      advanced.addEventListener("toggle", function () { q.advancedOpen = advanced.open; });
      body.push(advanced);
      body.push(el("ul", { className: "survey-warnings", "data-role": "warnings", hidden: true }));
      body.push(el("div", { className: "survey-card__actions" }, [
        el("button", { type: "button", className: "button button-small button-secondary", "data-action": "up", disabled: i === 0, text: L.move_up }),
        el("button", { type: "button", className: "button button-small button-secondary", "data-action": "down", disabled: i === questions.length - 1, text: L.move_down }),
        el("button", { type: "button", className: "button button-small no", "data-action": "delete", text: L.delete })
      ]));
      return el("li", { className: "survey-card-item" }, [
        el("fieldset", { className: "survey-card", "data-qid": String(q.id), "data-key": q.key }, body)
      ]);
    }

    /* Redraws every card, then puts the focus on `focus` ({id, role} or {action}). */
    function render(focus) {
      list.textContent = "";
      if (!questions.length) list.appendChild(el("li", { className: "survey-empty", text: L.empty }));
      questions.forEach(function (q, i) { list.appendChild(card(q, i)); });
      sync();
      if (!focus) return;
      var target = null;
      if (focus.id) {
        var cardNode = root.querySelector('[data-qid="' + focus.id + '"]');
        if (cardNode) {
          target = cardNode.querySelector(focus.selector);
          if (!target || target.disabled) target = cardNode.querySelector(focus.fallback || "[data-role=label]");
        }
      }
      (target || addButton).focus();
    }

    function redrawCondition(q) {
      var cardNode = root.querySelector('[data-qid="' + q.id + '"]');
      var old = cardNode.querySelector("[data-role=condition]");
      old.parentNode.replaceChild(conditionBlock(q), old);
    }

    /* --- events -------------------------------------------------------------------------- */

    function questionOf(node) {
      var cardNode = node.closest("[data-qid]");
      return cardNode ? byId(Number(cardNode.getAttribute("data-qid"))) : null;
    }

    root.addEventListener("input", function (event) {
      var target = event.target;
      var q = questionOf(target);
      if (!q) return;
      var role = target.getAttribute("data-role");
      if (role === "label") {
        q.label = target.value;
        if (!q.keyLocked) {
          q.key = uniqueKey(slug(q.label), q);
          target.closest("[data-qid]").querySelector("[data-role=key]").value = q.key;
        }
        root.querySelectorAll('[data-parent-option="' + q.id + '"]').forEach(function (node) {
          node.textContent = parentText(q);
        });
      } else if (role === "key") {
        q.key = target.value.trim();
        q.keyLocked = true;
      } else if (role === "choices") {
        q.choicesText = target.value;
        questions.forEach(function (other) {
          if (other.showIf && other.showIf.parent === q.id) redrawCondition(other);
        });
      } else if (role === "equals" && target.tagName === "INPUT") {
        q.showIf.equals = target.value;
      } else {
        return;
      }
      sync();
    });

    root.addEventListener("change", function (event) {
      var target = event.target;
      var q = questionOf(target);
      if (!q) return;
      var role = target.getAttribute("data-role");
      if (role === "type") {
        q.type = target.value;
        render({ id: q.id, selector: "[data-role=type]" });
      } else if (role === "parent") {
        var parentId = Number(target.value);
        q.showIf = parentId ? { parent: parentId, equals: null } : null;
        var parent = parentId && byId(parentId);
        if (parent && parent.type === "text") q.showIf.equals = "";
        redrawCondition(q);
        sync();
        root.querySelector('[data-qid="' + q.id + '"] [data-role=parent]').focus();
      } else if (role === "equals" && target.tagName === "SELECT") {
        q.showIf.equals = target.value === "" ? null : JSON.parse(target.value);
        sync();
      }
    });

    root.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-action]");
      if (!button) return;
      var action = button.getAttribute("data-action");
      if (action === "add") {
        var q = { id: ++nextId, key: "", keyLocked: false, label: "", type: config.types[0][0],
                  choicesText: "", showIf: null, advancedOpen: false };
        q.key = uniqueKey(slug(""), q);
        questions.push(q);
        render({ id: q.id, selector: "[data-role=label]" });
        announce(format(L.added, questions.length));
        return;
      }
      var current = questionOf(button);
      if (!current) return;
      var i = indexOf(current);
      if (action === "up" || action === "down") {
        var j = action === "up" ? i - 1 : i + 1;
        if (j < 0 || j >= questions.length) return;
        questions[i] = questions[j];
        questions[j] = current;
        render({ id: current.id, selector: "[data-action=" + action + "]",
                 fallback: "[data-action=" + (action === "up" ? "down" : "up") + "]" });
        announce(format(L.moved, j + 1));
      } else if (action === "delete") {
        questions.splice(i, 1);
        var unlinked = false;
        questions.forEach(function (other) {
          if (other.showIf && other.showIf.parent === current.id) { other.showIf = null; unlinked = true; }
        });
        var next = questions[i] || questions[i - 1];
        render(next ? { id: next.id, selector: "[data-role=label]" } : { action: "add" });
        announce(L.deleted + (unlinked ? " " + L.unlinked : ""));
      }
    });

    source.hidden = true;
    root.hidden = false;
    render(null);
    field.setAttribute("data-survey-ready", "");
  }

  document.querySelectorAll("[data-survey-field]").forEach(init);
}());
