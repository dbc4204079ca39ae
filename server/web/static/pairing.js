/* The pairing page asks the server every 3 s whether the console has approved its code.
 * It used to reload itself with <meta http-equiv=refresh>, which a screen reader announces
 * as a page that changes under the reader (axe: meta-refresh, critical). Written in ES5.
 * The server answers the same address: the pairing page again (perhaps with a new code),
 * or, once approved, a redirect to the screen itself with its cookie set. */
(function () {
  "use strict";
  var POLL_MS = 3000;
  function poll() {
    fetch(location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.text().then(function (html) { return { r: r, html: html }; }); })
      .then(function (got) {
        var doc = new DOMParser().parseFromString(got.html, "text/html");
        var code = doc.getElementById("pair-code");
        if (!code) { location.replace(location.pathname); return; }
        var shown = document.getElementById("pair-code");
        if (shown && shown.textContent !== code.textContent) { shown.textContent = code.textContent; }
        setTimeout(poll, POLL_MS);
      })
      .catch(function () { setTimeout(poll, POLL_MS); });
  }
  setTimeout(poll, POLL_MS);
})();
