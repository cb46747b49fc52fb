/* Chợ 4.0: the trader's page /stall/ kept live, and each payment announced aloud.
 *
 * The page (templates/stall/home.html) is server-rendered with today's receipts;
 * this script adds what needs a browser:
 * - live receipts: an EventSource on data-events-url?cursor=<data-cursor> (the
 *   browser resumes with Last-Event-ID after a drop); where streams fail (3 errors
 *   without an open) it polls data-receipts-url?cursor=… every 2 s instead. A new
 *   receipt goes on top of the list and today's total follows the server's;
 * - each new receipt announced once per device (localStorage, per Vietnam day, across
 *   reloads and tabs): the amount full screen (tap to close, gone after 4 s)
 *   always; then, once "Bật loa" was tapped (browsers allow sound only after a
 *   tap) and unless muted, a chime (WebAudio) and "Đã nhận … đồng" spoken by the
 *   phone's Vietnamese voice (speechSynthesis, lang vi-VN) or, where it has none,
 *   the word clips of static/audio/vi/ played in turn (stall-sound.js; the words:
 *   stall-words.js).
 *   Announcements queue, one after the other;
 * - the acknowledgement of each announcement (POST data-ack-url, method speech or
 *   clips once the sound started, silent when muted, not turned on or refused by the
 *   phone), so the board sees the delay and the silent phones;
 * - the screen kept awake (Wake Lock API), with a note where the phone cannot.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-stall]");
  if (!root || !window.Cho40Words || !window.Cho40Sound) return;

  var STRINGS = JSON.parse(document.getElementById("stall-strings").textContent);
  var DEVICE_KEY = "cho40.device";
  var MUTE_KEY = "cho40.stall.muted";
  var ANNOUNCED_PREFIX = "cho40.announced.";
  var POLL_MS = 2000;
  var OVERLAY_MS = 4000;
  var STREAM_FAILURES = 3;
  var TEST_AMOUNT = 64000;

  var list = root.querySelector("[data-receipts]");
  var template = root.querySelector("[data-receipt-template]");
  var emptyNote = root.querySelector("[data-empty]");
  var liveState = root.querySelector("[data-live-state]");
  var soundState = root.querySelector("[data-sound-state]");
  var soundOn = root.querySelector("[data-sound-on]");
  var muteBox = root.querySelector("[data-mute]");
  var overlay = root.querySelector("[data-overlay]");
  var wakeNote = root.querySelector("[data-wake-note]");

  // --- storage (a private window may refuse it: then nothing is remembered) ----------

  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function save(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* not remembered */ }
  }

  function deviceId() {
    var id = load(DEVICE_KEY);
    if (!id || !/^[A-Za-z0-9._:-]{1,64}$/.test(id)) {
      id = window.crypto && window.crypto.randomUUID
        ? window.crypto.randomUUID()
        : "d" + Date.now().toString(36) + Math.random().toString(36).slice(2);
      save(DEVICE_KEY, id);
    }
    return id;
  }

  function vietnamDay() {  // YYYY-MM-DD
    return new Intl.DateTimeFormat("en-CA", {
      timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit", day: "2-digit"
    }).format(new Date());
  }

  function forgetOtherDays(today) {
    try {
      for (var i = window.localStorage.length - 1; i >= 0; i--) {
        var key = window.localStorage.key(i);
        if (key && key.indexOf(ANNOUNCED_PREFIX) === 0 && key !== ANNOUNCED_PREFIX + today) {
          window.localStorage.removeItem(key);
        }
      }
    } catch (e) { /* nothing stored */ }
  }

  // True the first time this device sees the payment today (and remembers it).
  function claim(id) {
    var key = ANNOUNCED_PREFIX + vietnamDay();
    var ids;
    try { ids = JSON.parse(load(key) || "[]"); } catch (e) { ids = []; }
    if (ids.indexOf(id) !== -1) return false;
    ids.push(id);
    save(key, JSON.stringify(ids));
    return true;
  }

  // Two tabs get the same receipt at once: the lock makes one of them claim it first.
  // Another tab may run in another process, whose copy of localStorage learns of this
  // tab's write a moment later: the tab that claimed keeps the lock a second longer, so the
  // next tab reads the list only once the write has reached it (the claim itself is not delayed).
  function claimOnce(id) {
    if (!(navigator.locks && navigator.locks.request)) return Promise.resolve(claim(id));
    return new Promise(function (resolve) {
      navigator.locks.request("cho40-announce", function () {
        var first = claim(id);
        resolve(first);
        return new Promise(function (done) { setTimeout(done, first ? 1000 : 0); });
      }).catch(function () { resolve(claim(id)); });
    });
  }

  // --- the list and today's total -------------------------------------------------------

  function dong(amount) {
    return String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, ".") + " ₫";
  }

  function showToday(today) {
    if (!today) return;
    root.querySelector("[data-today-value]").textContent = dong(today.value);
    root.querySelector("[data-today-count]").textContent = String(today.count);
  }

  function known(id) {
    return list.querySelector('[data-payment-id="' + Number(id) + '"]') !== null;
  }

  function addToList(receipt) {
    var item = template.content.firstElementChild.cloneNode(true);
    item.setAttribute("data-payment-id", String(receipt.id));
    item.querySelectorAll("[data-field]").forEach(function (field) {
      var value = receipt[field.getAttribute("data-field")];
      field.textContent = value === null || value === undefined ? "" : String(value);
    });
    var time = item.querySelector("time");
    if (time) time.setAttribute("datetime", receipt.recorded_at || "");
    item.classList.add("receipt--new");
    list.insertBefore(item, list.firstChild);
    if (emptyNote) emptyNote.hidden = true;
  }

  function receive(receipt) {
    showToday(receipt.today);
    if (known(receipt.id)) return;
    addToList(receipt);
    claimOnce(receipt.id).then(function (mine) {
      if (mine) announce(receipt, false);
    });
  }

  // --- sound (stall-sound.js) ---------------------------------------------------------

  var muted = load(MUTE_KEY) === "1";
  var sound = new window.Cho40Sound({
    clipsBase: root.getAttribute("data-clips"),
    clipType: root.getAttribute("data-clip-ext"),
    onChange: showSoundState,
    onChime: function () {
      root.setAttribute("data-chimes", String(Number(root.getAttribute("data-chimes") || 0) + 1));
    }
  });

  function showSoundState() {
    root.setAttribute("data-voice", sound.voice ? "speech" : "clips");
    if (!soundState) return;
    if (muted) soundState.textContent = STRINGS.muted;
    else if (!sound.on) soundState.textContent = STRINGS.off;
    else soundState.textContent = sound.voice ? STRINGS.voice : STRINGS.clips;
  }

  function unlock() {
    sound.unlock();
    if (soundOn) {
      soundOn.setAttribute("aria-pressed", "true");
      soundOn.textContent = STRINGS.speaker_on;
    }
    keepAwake();
  }

  // --- the overlay ------------------------------------------------------------------

  var overlayTimer = null;

  function hideOverlay() {
    overlay.hidden = true;
    clearTimeout(overlayTimer);
  }

  function showOverlay(receipt, test) {
    var amount = overlay.querySelector("[data-overlay-amount]");
    amount.textContent = receipt.amount_text || dong(receipt.amount);
    // As big as fits on one line (a bold digit is about 0.62 em wide).
    amount.style.fontSize = "min(6rem, 15vw, " + (88 / (0.62 * amount.textContent.length)).toFixed(1) + "vw)";
    overlay.querySelector("[data-overlay-title]").textContent = test ? STRINGS.test_title : STRINGS.received;
    overlay.hidden = false;
    clearTimeout(overlayTimer);
    overlayTimer = setTimeout(hideOverlay, OVERLAY_MS);
  }

  // --- announcements, one after the other ----------------------------------------------

  var queue = Promise.resolve();

  // The server is told how the payment was announced, once, as soon as it is known:
  // "speech" or "clips" when the sound started, "silent" when muted, before "Bật loa",
  // or when the phone did not play it.
  function announce(receipt, test) {
    queue = queue.then(function () {
      var told = false;
      function report(method) {
        if (told) return;
        told = true;
        if (!test) acknowledge(receipt.id, method);
      }
      showOverlay(receipt, test);
      if (muted || !sound.on) {
        report("silent");
        return window.Cho40Sound.wait(300);
      }
      return sound.announce(receipt.amount, report).then(function () { report("silent"); });
    }).catch(function () { /* the next one still plays */ });
    return queue;
  }

  function acknowledge(id, method, attempt) {
    var url = root.getAttribute("data-ack-url").replace("/0/", "/" + Number(id) + "/");
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": root.getAttribute("data-csrf") },
      body: JSON.stringify({ device_id: deviceId(), method: method })
    }).then(function (answer) {
      if (answer.status >= 500) throw new Error("server");
    }).catch(function () {
      if ((attempt || 0) < 3) setTimeout(function () { acknowledge(id, method, (attempt || 0) + 1); }, 5000);
    });
  }

  // --- live receipts: the event stream, or polling where it fails -------------------------

  var cursor = root.getAttribute("data-cursor") || "";
  var failures = 0;
  var pollTimer = null;

  function withCursor(url) {
    return url + (url.indexOf("?") === -1 ? "?" : "&") + "cursor=" + encodeURIComponent(cursor);
  }

  function setLive(state) {
    root.setAttribute("data-live", state);
    if (liveState) liveState.textContent = STRINGS["live_" + state] || "";
  }

  function connect() {
    if (!window.EventSource) { poll(); return; }
    var source = new EventSource(withCursor(root.getAttribute("data-events-url")));
    source.onopen = function () {
      failures = 0;
      setLive("stream");
    };
    source.addEventListener("receipt", function (event) {
      if (event.lastEventId) cursor = event.lastEventId;
      try { receive(JSON.parse(event.data)); } catch (e) { /* a broken event is skipped */ }
    });
    source.onerror = function () {
      failures += 1;
      setLive("reconnecting");
      if (failures >= STREAM_FAILURES) {
        source.close();
        poll();
      } else if (source.readyState === EventSource.CLOSED) {
        setTimeout(connect, POLL_MS);  // refused (not a stream): the browser will not retry by itself
      }
    };
  }

  function poll() {
    clearTimeout(pollTimer);
    fetch(withCursor(root.getAttribute("data-receipts-url")), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (answer) {
      if (answer.status === 401) window.location.reload();  // signed out: the page asks to sign in again
      if (!answer.ok) throw new Error(String(answer.status));
      return answer.json();
    }).then(function (data) {
      (data.receipts || []).forEach(receive);
      if (data.cursor) cursor = data.cursor;
      showToday(data.today);
      setLive("polling");
    }).catch(function () {
      setLive("offline");
    }).then(function () {
      pollTimer = setTimeout(poll, POLL_MS);
    });
  }

  // --- the screen kept awake ---------------------------------------------------------

  var wakeLock = null;

  function keepAwake() {
    if (!("wakeLock" in navigator)) {
      wakeNote.hidden = false;
      return;
    }
    if (wakeLock || document.visibilityState !== "visible") return;
    navigator.wakeLock.request("screen").then(function (lock) {
      wakeLock = lock;
      wakeNote.hidden = true;
      root.setAttribute("data-awake", "yes");
      lock.addEventListener("release", function () { wakeLock = null; root.setAttribute("data-awake", "no"); });
    }).catch(function () {
      wakeNote.hidden = false;
    });
  }

  // --- wiring ----------------------------------------------------------------------------

  root.querySelector("[data-sound]").hidden = false;
  forgetOtherDays(vietnamDay());
  list.querySelectorAll("[data-payment-id]").forEach(function (item) {
    claim(Number(item.getAttribute("data-payment-id")));  // shown at load: never announced here
  });
  if (muteBox) {
    muteBox.checked = muted;
    muteBox.addEventListener("change", function () {
      muted = muteBox.checked;
      save(MUTE_KEY, muted ? "1" : "0");
      showSoundState();
    });
  }
  if (soundOn) soundOn.addEventListener("click", unlock);
  root.querySelector("[data-sound-test]").addEventListener("click", function () {
    unlock();
    announce({ id: 0, amount: TEST_AMOUNT, amount_text: dong(TEST_AMOUNT) }, true);
  });
  overlay.addEventListener("click", hideOverlay);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") hideOverlay();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") keepAwake();
  });
  var day = vietnamDay();
  setInterval(function () {  // a new day in Vietnam: a new list and total
    if (vietnamDay() !== day && overlay.hidden) window.location.reload();
  }, 60000);
  sound.pickVoice();
  keepAwake();
  connect();
})();
