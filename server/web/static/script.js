/* The chair's script: keep the next line in view as the session moves; print button.
 * ES5, like live.js: tablets at the rostrum are often old. */
(function () {
  "use strict";

  var lastTouch = 0;  // the chair scrolled back to re-read: leave the page alone a while
  var HANDS_OFF_MS = 15000;

  function toNext(force) {
    var next = document.getElementById("s-next");
    if (!next) { return; }
    if (!force && Date.now() - lastTouch < HANDS_OFF_MS) { return; }
    var top = next.getBoundingClientRect().top + window.pageYOffset;
    var header = document.querySelector(".s-header");
    var room = header ? header.offsetHeight : 0;
    window.scrollTo(0, Math.max(0, top - room - window.innerHeight * 0.22));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var jump = document.getElementById("s-jump");
    if (jump) { jump.addEventListener("click", function () { toNext(true); }); }
    var printing = document.querySelector("[data-print]");
    if (printing) { printing.addEventListener("click", function () { window.print(); }); }
    if (document.body.classList.contains("s-live")) {
      window.addEventListener("touchmove", function () { lastTouch = Date.now(); }, { passive: true });
      window.addEventListener("wheel", function () { lastTouch = Date.now(); }, { passive: true });
      toNext(true);
    }
  });

  document.addEventListener("htmx:oobAfterSwap", function (e) {
    var target = e.detail && e.detail.target;
    if (target && target.id === "s-script") { toNext(false); }
  });
})();
