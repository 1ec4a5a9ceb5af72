// Donation form: amounts and after-tax cost, Stripe.js card form, then the server's JSON
// endpoints (start, monthly subscription, attempt status). Card data goes to Stripe only.
(function () {
  "use strict";
  function init(root) {
    var form = root.querySelector("[data-form]");
    var closed = root.querySelector("[data-closed]");
    var errorBox = root.querySelector("[data-error]");
    var infoBox = root.querySelector("[data-info]");
    var thanks = root.querySelector("[data-thanks]");
    var cardBox = root.querySelector("[data-card]");
    var token = form.querySelector("[data-token]");
    var stripe = null;
    var card = null;
    var iban = null;
    var ibanBox = root.querySelector("[data-iban]");
    var methods = root.querySelector("[data-methods]");
    var percent = 66;
    token.value = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/-/g, "");
    var params = new URLSearchParams(window.location.search);
    form.querySelector("[data-blast]").value = params.get("blast") || "";

    function show(box, text) { box.textContent = text || ""; box.hidden = !text; }
    function amountValue() {
      var other = form.querySelector("[data-other]").value.trim();
      if (other) { return other; }
      var checked = form.querySelector("input[name=amount]:checked");
      return checked ? checked.value : "";
    }
    function updateTaxNote() {
      var value = parseFloat(String(amountValue()).replace(",", "."));
      var note = root.querySelector("[data-tax-note]");
      if (!value || !note.dataset.template) { return; }
      var net = Math.round(value * (100 - percent)) / 100;
      note.textContent = note.dataset.template.replace("{value}", value).replace("{net}", net).replace("{percent}", percent);
    }
    function loadStripe(publishableKey) {
      window.cocardeLoadStripe(root, publishableKey, function (loaded) {
        stripe = loaded;
        card = stripe.elements().create("card");
        card.mount(cardBox);
        cardBox.hidden = false;
        iban = stripe.elements().create("iban", { supportedCountries: ["SEPA"] });
        iban.mount(ibanBox);
      });
    }
    function poll(attempt) {
      var url = "/donations/tentative/" + attempt + "/?token=" + encodeURIComponent(token.value);
      var tries = 0;
      function again() {
        fetch(url, { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (data) {
          if (data.status === "succeeded") {
            form.hidden = true; thanks.hidden = false; root.setAttribute("data-result", "succeeded");
          } else if (data.status === "failed") {
            show(errorBox, form.dataset.failed || "Payment failed."); root.setAttribute("data-result", "failed");
          } else if (tries++ < 120) { setTimeout(again, 1000); }
        });
      }
      again();
    }
    fetch(root.getAttribute("data-status-url"), { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (state) {
      percent = state.tax_reduction_percent || 0;
      if (!state.open) { show(closed, state.message); form.hidden = true; return; }
      loadStripe(state.publishable_key);
    });
    function method() {
      var checked = form.querySelector("input[name=method]:checked");
      return checked ? checked.value : "card";
    }
    form.addEventListener("change", function () {
      updateTaxNote();
      var monthly = (form.querySelector("input[name=frequency]:checked") || {}).value === "monthly";
      methods.hidden = !monthly;
      if (!monthly) { form.querySelector("input[name=method][value=card]").checked = true; }
      var sepa = monthly && method() === "sepa_debit";
      if (card) { cardBox.hidden = sepa; ibanBox.hidden = !sepa; }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!form.querySelector("input[name=altcha]").value) { return; }  // pow.js resubmits
      show(errorBox, ""); show(infoBox, "");
      var data = new FormData(form);
      data.set("amount", amountValue());
      var button = form.querySelector("[data-submit]");
      button.disabled = true;
      fetch(root.getAttribute("data-start-url"), { method: "POST", body: data, credentials: "omit" })
        .then(function (r) { return r.json(); })
        .then(function (result) {
          window.cocardeDonation = result;
          root.setAttribute("data-attempt", result.attempt || "");
          if (!result.ok) {
            var message = result.message || "";
            if (result.errors) {
              message = Object.keys(result.errors).map(function (k) { return result.errors[k][0].message; }).join(" ");
            }
            show(errorBox, message); button.disabled = false; return;
          }
          if (!stripe) {
            // Stripe.js could not load (offline): the payment is confirmed elsewhere; wait for it.
            show(infoBox, form.dataset.waiting || "…");
            poll(result.attempt); return;
          }
          if (result.next === "subscribe") {
            var details = form.querySelector("#id_first_name").value + " " + form.querySelector("#id_last_name").value;
            var request = method() === "sepa_debit"
              ? { type: "sepa_debit", sepa_debit: iban, billing_details: { name: details, email: form.querySelector("#id_email").value } }
              : { type: "card", card: card };
            return stripe.createPaymentMethod(request).then(function (created) {
              if (created.error) { show(errorBox, created.error.message); button.disabled = false; return; }
              var body = new FormData();
              body.set("form_token", token.value);
              body.set("payment_method", created.paymentMethod.id);
              return fetch("/donations/tentative/" + result.attempt + "/mensuel/", { method: "POST", body: body, credentials: "omit" })
                .then(function () { poll(result.attempt); });
            });
          }
          return stripe.confirmCardPayment(result.client_secret, { payment_method: { card: card } }).then(function (paid) {
            if (paid.error) { show(errorBox, paid.error.message); button.disabled = false; return; }
            poll(result.attempt);
          });
        });
    });
  }
  function start() { document.querySelectorAll("[data-donation]").forEach(init); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
