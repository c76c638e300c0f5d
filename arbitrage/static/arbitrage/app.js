/* fundarb: the live countdowns to funding instants. No inline scripts (CSP script-src 'self'). */
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function describe(ms) {
    if (ms <= 0) { return ms > -60000 ? "settling now" : "passed"; }
    var s = Math.floor(ms / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return "in " + (h ? h + "h " + pad(m) + "m " : (m ? m + "m " : "")) + pad(sec) + "s";
  }

  function tick(nodes) {
    var now = Date.now();
    nodes.forEach(function (node) {
      var ms = node._target - now;
      node.textContent = describe(ms);
      node.classList.toggle("soon", ms > 0 && ms < 60000);
    });
  }

  function start() {
    var nodes = Array.prototype.slice.call(document.querySelectorAll("[data-countdown]")).filter(function (node) {
      var target = Date.parse(node.getAttribute("data-countdown"));
      if (isNaN(target)) { return false; }
      node._target = target;
      node.title = node.getAttribute("data-countdown");
      return true;
    });
    if (!nodes.length) { return; }
    tick(nodes);
    window.setInterval(function () { tick(nodes); }, 1000);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
