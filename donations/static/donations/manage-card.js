// Monthly gift's signed page: Stripe Elements collect the new card (or IBAN) and confirm the
// SetupIntent the server created; the server then reads it back from Stripe and makes its
// payment method the subscription's default. Card data goes to Stripe only.
(function () {
  "use strict";
  function init(root) {
    var form = root.querySelector("[data-card-form]");
    if (!form) { return; }
    var cardBox = root.querySelector("[data-card]");
    var ibanBox = root.querySelector("[data-iban]");
    var mandate = root.querySelector("[data-mandate]");
    var errorBox = root.querySelector("[data-error]");
    var infoBox = root.querySelector("[data-info]");
    var button = form.querySelector("[data-submit]");
    var secret = root.getAttribute("data-client-secret");
    var sepaOffered = (root.getAttribute("data-methods") || "").split(" ").indexOf("sepa_debit") >= 0;
    var stripe = null;
    var card = null;
    var iban = null;

    function show(box, text) { box.textContent = text || ""; box.hidden = !text; }
    function method() {
      var checked = form.querySelector("input[name=method]:checked");
      return checked ? checked.value : "card";
    }
    function toggle() {
      var sepa = method() === "sepa_debit";
      cardBox.hidden = sepa; ibanBox.hidden = !sepa; mandate.hidden = !sepa;
    }
    window.cocardeLoadStripe(root, root.getAttribute("data-publishable-key"), function (loaded) {
      stripe = loaded;
      card = stripe.elements().create("card");
      card.mount(cardBox);
      if (sepaOffered) {
        iban = stripe.elements().create("iban", { supportedCountries: ["SEPA"] });
        iban.mount(ibanBox);
      }
      toggle();
      button.disabled = false;
    }, function () { root.querySelector("[data-unavailable]").hidden = false; });
    form.addEventListener("change", toggle);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!stripe) { return; }
      show(errorBox, ""); show(infoBox, "");
      button.disabled = true;
      var confirmed = method() === "sepa_debit"
        ? stripe.confirmSepaDebitSetup(secret, { payment_method: { sepa_debit: iban, billing_details: {
            name: root.getAttribute("data-name"), email: root.getAttribute("data-email") } } })
        : stripe.confirmCardSetup(secret, { payment_method: { card: card } });
      confirmed.then(function (result) {
        if (result.error) { show(errorBox, result.error.message); button.disabled = false; return; }
        var body = new FormData();
        body.set("setup_intent", result.setupIntent.id);
        return fetch(root.getAttribute("data-url"), { method: "POST", body: body, credentials: "omit" })
          .then(function (r) { return r.json(); })
          .then(function (answer) {
            root.setAttribute("data-result", answer.ok ? "changed" : "refused");
            if (!answer.ok) { show(errorBox, answer.message); button.disabled = false; return; }
            // Saved, but the overdue month was declined with it: said as an alert.
            show(answer.overdue === "declined" ? errorBox : infoBox, answer.message);
            form.querySelectorAll("[data-card], [data-iban], [data-mandate], [data-submit]").forEach(function (el) { el.hidden = true; });
          });
      }).catch(function () { show(errorBox, form.getAttribute("data-failed")); button.disabled = false; });
    });
  }
  function start() { document.querySelectorAll("[data-card-change]").forEach(init); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
