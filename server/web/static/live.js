/* Wenzheng live page: resync, clock offset, countdown, shortcuts.
 * Written in ES5 on purpose: it must run in old Android WebViews and WeChat.
 * See server/web/ws.py for the protocol. */
(function () {
  "use strict";
  /* The check-in POST answers with the deputy's page itself (one round trip fewer on the
     hall's Wi-Fi); the page then takes its own address, so a reload asks for the page
     and not for the check-in again. */
  var replaceUrl = document.body.getAttribute("data-replace-url");
  if (replaceUrl && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", replaceUrl);
  }

  var HEARTBEAT_MS = 30000;
  var SILENCE_MS = 75000;
  var offset = 0;          // server clock minus local clock, in ms
  var bestRtt = Infinity;
  var samples = [];
  var lastHeard = Date.now();
  var socket = null;
  var heartbeat = null;

  htmx.config.allowNestedOobSwaps = false;
  /* Reconnect within 5 s, however long the phone was away. The extension's own backoff
     doubles up to 64 s: a phone back from a minute without Wi-Fi would wait another
     half minute on average before it showed the truth. The jitter (the upper half of
     each step) keeps a hall full of phones from coming back in the same instant. */
  htmx.config.wsReconnectDelay = function (retries) {
    var step = Math.min(5000, 500 * Math.pow(2, retries));
    return step / 2 + Math.random() * step / 2;
  };
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "4..", swap: true, error: false },
    { code: "5..", swap: true, error: true }
  ];

  function pageSeq() { return parseInt(document.body.getAttribute("data-seq") || "-1", 10); }

  function noteSeq(html) {
    var re = /data-seq="(\d+)"/g, m, max = pageSeq();
    while ((m = re.exec(html)) !== null) { max = Math.max(max, parseInt(m[1], 10)); }
    document.body.setAttribute("data-seq", String(max));
  }

  function setConn(ok, text) {
    var els = document.querySelectorAll(".conn");
    for (var i = 0; i < els.length; i++) {
      els[i].textContent = text || (ok ? "● 已连接" : "○ 连接中断，正在重连…");
      els[i].className = "conn " + (ok ? "conn-ok" : "conn-lost");
    }
  }

  function send(obj) { if (socket) { socket.send(JSON.stringify(obj)); } }

  function probe() { send({ type: "time", t0: Date.now() }); }

  function onTime(msg) {
    if (typeof msg.t0 !== "number") { return; }
    var t1 = Date.now(), rtt = t1 - msg.t0;
    samples.push({ rtt: rtt, offset: msg.ts - (msg.t0 + t1) / 2 });
    if (samples.length > 8) { samples.shift(); }
    bestRtt = Infinity;
    for (var i = 0; i < samples.length; i++) {
      if (samples[i].rtt < bestRtt) { bestRtt = samples[i].rtt; offset = samples[i].offset; }
    }
    document.body.setAttribute("data-clock-offset", String(Math.round(offset)));
  }

  document.body.addEventListener("htmx:wsOpen", function (e) {
    socket = e.detail.socketWrapper;
    lastHeard = Date.now();
    setConn(true);
    send({ type: "hello", seq: pageSeq() });
    for (var i = 0; i < 5; i++) { setTimeout(probe, i * 150); }
    if (heartbeat) { clearTimeout(heartbeat); }
    var beat = function () {
      if (Date.now() - lastHeard > SILENCE_MS && socket) { socket.reconnect(); return; }
      probe();
      heartbeat = setTimeout(beat, HEARTBEAT_MS * (0.8 + Math.random() * 0.4));
    };
    heartbeat = setTimeout(beat, HEARTBEAT_MS * (0.8 + Math.random() * 0.4));
  });

  /* 1008 is the server's deliberate close (this phone was signed out, or the page may not
     watch): the extension does not reconnect after it, so saying "reconnecting" would lie. */
  document.body.addEventListener("htmx:wsClose", function (e) {
    var closed = e.detail && e.detail.event;
    setConn(false, closed && closed.code === 1008 ? "○ 本机已退出" : "");
  });

  document.body.addEventListener("htmx:wsBeforeMessage", function (e) {
    lastHeard = Date.now();
    var text = e.detail.message;
    if (typeof text === "string" && text.charAt(0) === "{") {
      e.preventDefault();
      var msg;
      try { msg = JSON.parse(text); } catch (err) { return; }
      if (msg.type === "time") { onTime(msg); }
      return;
    }
    noteSeq(text);
  });

  /* Countdown: the server holds the deadline; we draw it. */
  var CHINA_OFFSET_MS = 8 * 3600 * 1000;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function draw() {
    var timers = document.querySelectorAll(".timer");
    var now = Date.now() + offset;
    for (var i = 0; i < timers.length; i++) {
      var t = timers[i];
      if (t.classList.contains("idle")) { continue; }
      var running = t.getAttribute("data-running") === "1";
      var left = running ? parseInt(t.getAttribute("data-deadline"), 10) - now
                         : parseInt(t.getAttribute("data-remaining"), 10);
      var warn = parseInt(t.getAttribute("data-warn"), 10);
      var secs = left > 0 ? Math.ceil(left / 1000) : Math.floor(-left / 1000);
      var text = (left < 0 ? "+" : "") + pad(Math.floor(secs / 60)) + ":" + pad(secs % 60);
      var digits = t.querySelector(".timer-digits");
      if (digits && digits.textContent !== text) { digits.textContent = text; }
      t.classList.toggle("warn", left > 0 && left <= warn);
      t.classList.toggle("over", left <= 0);
      chimeOnCrossing(t, left, warn, running);
    }
    /* The idle podium shows the time of day (the server's clock) instead of --:--, in
       China time (UTC+8) whatever zone the podium's computer is set to. */
    var clock = document.getElementById("po-clock");
    if (clock) {
      var d = new Date(now + CHINA_OFFSET_MS), hm = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
      if (clock.textContent !== hm) { clock.textContent = hm; }
    }
  }

  /* The podium's optional chime: once when the warning starts, once at zero. A browser
     plays sound only after a tap, so the podium page has a button that turns it on. */
  var chime = null;
  function chimeOnCrossing(t, left, warn, running) {
    /* A timer fragment swapped in (a new phase, the chair's adjustment) starts with no
       data-left: only a countdown crossing the line by itself chimes. */
    var was = t.getAttribute("data-left") === null ? null : parseInt(t.getAttribute("data-left"), 10);
    t.setAttribute("data-left", String(left));
    if (!chime || !running || was === null) { return; }
    if ((was > warn && left <= warn && left > 0) || (was > 0 && left <= 0)) {
      document.body.setAttribute("data-chimes", String(parseInt(document.body.getAttribute("data-chimes") || "0", 10) + 1));
      try { chime.currentTime = 0; var p = chime.play(); if (p && p.catch) { p.catch(function () {}); } } catch (err) { /* no sound: the colours still say it */ }
    }
  }
  var chimeButton = document.getElementById("chime-toggle");
  if (chimeButton) {
    chimeButton.addEventListener("click", function () {
      if (chime) { chime = null; chimeButton.setAttribute("aria-pressed", "false"); chimeButton.textContent = "开启提示音"; return; }
      chime = new Audio("/static/chime.wav");
      try { var p = chime.play(); if (p && p.catch) { p.catch(function () {}); } } catch (err) { /* ignore */ }
      chimeButton.setAttribute("aria-pressed", "true");
      chimeButton.textContent = "关闭提示音";
    });
  }
  setInterval(draw, 50);

  /* A fresh key for each rating form: a retry of the same form is the same ballot. */
  function randomKey() {
    var a = new Uint8Array(12), s = "";
    (window.crypto || window.msCrypto).getRandomValues(a);
    for (var i = 0; i < a.length; i++) { s += ("0" + a[i].toString(16)).slice(-2); }
    return s;
  }
  htmx.onLoad(function (root) {
    var forms = (root.querySelectorAll ? root.querySelectorAll("form[data-ballot]") : []);
    for (var i = 0; i < forms.length; i++) {
      var input = forms[i].querySelector("input[name=ballot_key]");
      if (input && !input.getAttribute("data-fresh")) { input.value = randomKey(); input.setAttribute("data-fresh", "1"); }
    }
    draw();
  });

  /* A rating whose reply never came: say so plainly; the same form retries the same ballot. */
  function notRecorded(e) {
    var target = e.detail && e.detail.elt;
    var me = document.getElementById("d-me");
    if (!me || !target || !me.contains(target)) { return; }
    var old = me.querySelector(".notice");
    if (old) { old.parentNode.removeChild(old); }
    var p = document.createElement("p");
    p.className = "notice error";
    p.setAttribute("role", "alert");
    p.textContent = "未记录，请重试";
    me.insertBefore(p, me.firstChild);
  }
  document.body.addEventListener("htmx:sendError", notRecorded);
  document.body.addEventListener("htmx:timeout", notRecorded);
  htmx.config.timeout = 10000;

  /* Chair shortcuts: a key clicks the enabled button that names it. */
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var tag = (e.target && e.target.tagName) || "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
    var key = e.key === "=" ? "+" : e.key.toLowerCase();
    var button = document.querySelector('button[data-key="' + key + '"]:not([disabled])');
    if (button) { e.preventDefault(); button.click(); }
  });

  /* Forms that ask for it are emptied once the server accepted them. */
  document.body.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail.elt;
    if (e.detail.successful && form && form.tagName === "FORM" && form.hasAttribute("data-reset-on-success")) {
      form.reset();
    }
  });

  /* checkin: the console's manual check-in search rows follow every attendance update,
     whichever console made it (the row says 已签到 at once, no second click). The search
     box itself asks again, so its answers stay in order with what is typed meanwhile. */
  document.body.addEventListener("htmx:oobAfterSwap", function (e) {
    var target = e.detail && e.detail.target;
    if (!target || target.id !== "c-attendance") { return; }
    var box = document.querySelector("input[type=search][name=q]");
    if (box && box.value && document.getElementById("c-roster")) { htmx.trigger(box, "search"); }
  });

  /* Console flash messages fade after a while: what a click did after 4 s, a refusal
     after 6 s. Only the newest message's timer may clear the line. */
  var flashTimers = [];
  document.body.addEventListener("htmx:afterSwap", function (e) {
    var line = e.detail.target;
    if (!line || line.id !== "c-flash") { return; }
    flashTimers.forEach(clearTimeout);
    var ok = !!line.querySelector(".flash.ok");
    var shown = line.firstElementChild;
    flashTimers = [
      setTimeout(function () { if (shown) { shown.classList.add("fading"); } }, ok ? 3400 : 5400),
      setTimeout(function () { if (line.firstElementChild === shown) { line.innerHTML = ""; } }, ok ? 4000 : 6000)
    ];
  });
})();

/* review (issue 16): the console's agenda scrolls inside a box sized so the projector
   controls under it stay on the first screen at 1366x768, whatever the agenda's length or
   the warnings above it; the current item (and the next one's 进入) is scrolled into view. */
(function () {
  var MIN_PX = 100; // two items at least stay visible
  function fitAgenda() {
    var list = document.querySelector(".console #c-agenda ol");
    var below = document.getElementById("c-projector");
    if (!list || !below) { return; }
    list.style.maxHeight = "";
    var natural = list.getBoundingClientRect().height;
    var over = below.getBoundingClientRect().bottom + window.scrollY - window.innerHeight + 8;
    var current = list.querySelector("li.current");
    var next = current && current.nextElementSibling;
    var least = MIN_PX; // the current item and the next one's 进入, whole
    if (current) { least = Math.max(least, (next || current).getBoundingClientRect().bottom - current.getBoundingClientRect().top + 6); }
    if (over > 0) { list.style.maxHeight = Math.floor(Math.min(natural, Math.max(least, natural - over))) + "px"; }
    if (current) { list.scrollTop = Math.max(0, current.offsetTop - 2); }
  }
  document.addEventListener("DOMContentLoaded", fitAgenda);
  window.addEventListener("resize", fitAgenda);
  document.body.addEventListener("htmx:oobAfterSwap", function (e) {
    var id = e.detail && e.detail.target && e.detail.target.id;
    if (id === "c-agenda" || id === "c-attendance" || id === "c-projector") { fitAgenda(); }
  });
})();
