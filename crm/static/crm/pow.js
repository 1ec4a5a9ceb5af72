// Proof of work for public forms (ALTCHA protocol, v1 challenges): find the number whose
// SHA-256 with the salt equals the signed challenge, in the browser, with no third party.
// Runs on page load; the submit button waits until the proof is ready.
(function () {
  "use strict";
  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }
  async function solve(challenge) {
    var encoder = new TextEncoder();
    for (var n = 0; n <= challenge.maxNumber; n++) {
      var digest = await crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n));
      if (hex(digest) === challenge.challenge) {
        return btoa(JSON.stringify({
          algorithm: challenge.algorithm, challenge: challenge.challenge, number: n,
          salt: challenge.salt, signature: challenge.signature,
        }));
      }
    }
    return "";
  }
  function challengeFor(input) {
    var url = input.getAttribute("data-challenge-url");
    if (!url) { return Promise.resolve(JSON.parse(input.getAttribute("data-challenge"))); }
    return fetch(url, { credentials: "omit", cache: "no-store" }).then(function (response) {
      return response.json();
    });
  }
  function protect(input) {
    var form = input.form;
    var status = form.querySelector("[data-crm-pow-status]");
    var ready = challengeFor(input).then(solve).then(function (payload) {
      input.value = payload;
      form.setAttribute("data-crm-pow", "ready");
      if (status) { status.textContent = status.getAttribute("data-done") || ""; }
    });
    form.addEventListener("submit", function (event) {
      if (input.value) { return; }
      event.preventDefault();
      ready.then(function () { form.requestSubmit(event.submitter || undefined); });
    });
  }
  function init() {
    document.querySelectorAll("input[data-crm-pow]").forEach(protect);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
