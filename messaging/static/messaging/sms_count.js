// Live SMS length: GSM-7 (160, 153 when concatenated) or UCS-2 (70, 67), and the cost.
(function () {
  var basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var extended = "^{}\\[~]|€\f";
  var text = document.querySelector("[data-sms-text]");
  var out = document.querySelector("[data-sms-count]");
  if (!text || !out) return;
  function count() {
    var value = text.value, gsm = true, units = 0;
    for (var i = 0; i < value.length; i++) {
      var ch = value[i];
      if (basic.indexOf(ch) >= 0) units += 1;
      else if (extended.indexOf(ch) >= 0) units += 2;
      else { gsm = false; break; }
    }
    if (!gsm) units = value.length;
    var single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    var segments = units === 0 ? 0 : (units <= single ? 1 : Math.ceil(units / multi));
    var price = parseFloat(out.dataset.price || "0");
    out.textContent = (gsm ? "GSM-7" : "UCS-2") + " · " + units + " · " + segments + " SMS · ~" + (segments * price).toFixed(3) + " €";
    out.dataset.segments = segments;
  }
  text.addEventListener("input", count);
  count();
})();
