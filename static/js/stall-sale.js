/* Chợ 4.0 — the trader's sale QR (/stall/sale/, docs/stall.md "Sale QR").
 *
 * Keypad page: the digit keys write into the (labelled) amount field, shown as
 * "64.000 ₫"; the form still posts the plain field, so the page works without
 * this script. The submit button is disabled after the first tap (the server
 * also treats a double tap as one sale: same idempotency key).
 *
 * QR page: polls the sale's status every 1.5 s, counts down to its expiry and,
 * when the sale is paid, turns the screen green, plays a chime (WebAudio) and
 * vibrates. Browsers allow sound only after a tap on the page: if the sound is
 * still locked, a "turn the sound on" button is shown.
 */
(function () {
  "use strict";

  var MAX_DIGITS = 13; // VietQR's largest amount has 13 digits
  var POLL_MS = 1500;

  function formatDong(value) {
    return new Intl.NumberFormat("vi-VN").format(value);
  }

  // --- keypad ---------------------------------------------------------------------
  function keypad(root) {
    var form = root.querySelector("form");
    var input = root.querySelector("#id_amount");
    var display = root.querySelector("[data-display]");
    var pad = root.querySelector("[data-keypad]");
    var submit = root.querySelector("[data-submit]");
    root.classList.add("sale--keypad");
    pad.hidden = false;
    display.hidden = false;
    input.readOnly = true; // the keypad, not the phone's keyboard
    input.setAttribute("inputmode", "none");

    function show() {
      var digits = input.value.replace(/\D/g, "").replace(/^0+/, "");
      input.value = digits;
      display.textContent = formatDong(Number(digits || "0")) + " ₫";
      display.classList.toggle("sale-display--empty", !digits);
    }
    pad.addEventListener("click", function (event) {
      var key = event.target.closest("[data-key]");
      if (!key) return;
      var value = input.value;
      var pressed = key.getAttribute("data-key");
      if (pressed === "back") value = value.slice(0, -1);
      else if (value || pressed.charAt(0) !== "0") value = (value + pressed).slice(0, MAX_DIGITS);
      input.value = value;
      show();
    });
    // Which button sent the form (event.submitter is missing on older phones).
    var quickTapped = false;
    form.addEventListener("click", function (event) {
      var button = event.target.closest("button[type=submit]");
      if (button) quickTapped = button.name === "quick";
    });
    form.addEventListener("submit", function (event) {
      var quick = event.submitter ? event.submitter.name === "quick" : quickTapped;
      if (!quick && !input.value) {
        event.preventDefault();
        display.classList.add("sale-display--shake");
        setTimeout(function () { display.classList.remove("sale-display--shake"); }, 400);
        return;
      }
      // Disabled on the next tick, so the tapped button's value is still sent.
      setTimeout(function () {
        submit.disabled = true;
        root.querySelectorAll("button[name=quick]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
    show();
  }

  // --- the QR screen --------------------------------------------------------------
  var audio = null;
  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audio) audio = new Context();
    return audio;
  }

  function chime() {
    var ctx = audioContext();
    document.body.dataset.chime = "played";
    if (!ctx) return;
    if (ctx.state === "suspended") ctx.resume();
    var now = ctx.currentTime;
    [880, 1318.5].forEach(function (frequency, i) {
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = frequency;
      var start = now + i * 0.18;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.5, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.6);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.65);
    });
    if (navigator.vibrate) navigator.vibrate([120, 60, 120]);
  }

  function screen(root) {
    var statusUrl = root.getAttribute("data-status-url");
    var status = root.getAttribute("data-status");
    var deadline = Date.now() + Number(root.getAttribute("data-seconds-left")) * 1000;
    var countdown = root.querySelector("[data-countdown]");
    var soundButton = root.querySelector("[data-sound]");
    var timer = null;

    function setState(next, paidAmount) {
      if (next === status) return;
      status = next;
      root.setAttribute("data-status", next);
      root.className = root.className.replace(/sale-screen--\w+/, "sale-screen--" + next);
      root.querySelectorAll("[data-state]").forEach(function (section) {
        section.hidden = section.getAttribute("data-state") !== next;
      });
      if (next === "paid") {
        if (paidAmount) root.querySelector("[data-paid]").textContent = formatDong(paidAmount);
        chime();
      }
      if (next !== "pending" && timer) clearInterval(timer);
    }

    function tick() {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      if (countdown) countdown.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (left === 0 && status === "pending") setState("expired");
    }

    function poll() {
      if (status !== "pending") return;
      fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (!body) return;
          deadline = Date.now() + body.expires_in * 1000;
          setState(body.status, body.paid_amount);
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ })
        .then(function () { if (status === "pending") setTimeout(poll, POLL_MS); });
    }

    // Sound needs a tap on this page first: offer one if it is still locked.
    var ctx = audioContext();
    if (ctx && ctx.state === "suspended" && soundButton) {
      soundButton.hidden = false;
      var unlock = function () {
        ctx.resume();
        soundButton.hidden = true;
      };
      soundButton.addEventListener("click", unlock);
      document.addEventListener("pointerdown", unlock, { once: true });
    }
    if (status === "pending") {
      timer = setInterval(tick, 1000);
      tick();
      setTimeout(poll, POLL_MS);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var pad = document.querySelector("[data-sale-keypad]");
    if (pad) keypad(pad);
    var sale = document.querySelector("[data-sale]");
    if (sale) screen(sale);
  });
})();
