// Loads Stripe.js once per page for the donation form (give.js) and the monthly gift's card
// change (manage-card.js): onReady(stripe) when it loads, onUnavailable() when it cannot
// (offline, blocked), and the root element is marked data-stripe="unavailable" for tests.
(function () {
  "use strict";
  window.cocardeLoadStripe = function (root, publishableKey, onReady, onUnavailable) {
    if (!publishableKey) { return; }
    var script = document.createElement("script");
    script.src = root.getAttribute("data-stripe-js");
    function unavailable() {
      root.setAttribute("data-stripe", "unavailable");
      if (onUnavailable) { onUnavailable(); }
    }
    script.onload = function () {
      if (!window.Stripe) { unavailable(); return; }
      root.setAttribute("data-stripe", "ready");
      onReady(window.Stripe(publishableKey));
    };
    script.onerror = unavailable;
    document.head.appendChild(script);
  };
})();
