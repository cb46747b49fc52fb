/* Chợ 4.0 — the volunteer's pages (/onboard/): what JavaScript adds to forms
 * that work without it.
 *
 * On every onboarding page: the offline queue. A form that could not be sent
 * (no network, or the connection dropped mid-way) is kept in localStorage and
 * sent again on the `online` event, on the next page load and every 30 s
 * while something waits; a badge says "waiting to send". Each registration
 * carries its submission id (client_ref), so a resend of one the server had
 * already received answers that trader instead of registering a second one.
 * These three retries work in every browser. Where the browser also has
 * Background Sync (Chromium), the form is also put in IndexedDB for the
 * service worker /onboard/sw.js, which the browser wakes to send it once the
 * network is back, even with the tab closed; whichever copy arrives second
 * finds the trader already registered.
 *
 * On the new-trader form: the bank search (name, short name, code or BIN
 * without diacritics), the account name filled from the trader's name as
 * banks print it, the time the consent box was ticked, and the camera scan
 * of the trader's bank QR (jsQR decodes in the browser; the payload goes to
 * the VietQR decode API, which fills bank and account).
 *
 * Plain ES2017, no framework, no build step.
 */
(function () {
  "use strict";

  var QUEUE_KEY = "cho40.onboard.queue";
  var RETRY_MS = 30000;
  var SEND_TIMEOUT_MS = 20000;
  var badge = document.querySelector("[data-queue-badge]");
  var flushing = false;

  // --- small helpers -----------------------------------------------------------

  function fold(text) {
    return String(text || "")
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d")
      .replace(/Đ/g, "D")
      .toLowerCase()
      .replace(/\s+/g, " ")
      .trim();
  }

  function accountName(fullName) {
    return fold(fullName).toUpperCase().replace(/[^A-Z0-9 .\-]/g, "");
  }

  function newId() {
    // A version-4 UUID; crypto.getRandomValues also works outside HTTPS.
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) return field.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function label(name) {
    return (badge && badge.getAttribute("data-label-" + name)) || "";
  }

  // --- the queue -----------------------------------------------------------------

  function loadQueue() {
    try {
      var items = JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (e) {
      return [];
    }
  }

  function saveQueue(items) {
    localStorage.setItem(QUEUE_KEY, JSON.stringify(items));
  }

  // --- Background Sync, where the browser has it ---------------------------------

  var SYNC_TAG = "cho40-onboard-send";
  var hasSync = "serviceWorker" in navigator && "SyncManager" in window && "indexedDB" in window;
  var worker = null;

  function idb(mode, work) {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("cho40-onboard", 1);
      request.onupgradeneeded = function () { request.result.createObjectStore("queue", { keyPath: "id" }); };
      request.onerror = function () { reject(request.error); };
      request.onsuccess = function () {
        var tx = request.result.transaction("queue", mode);
        work(tx.objectStore("queue"));
        tx.oncomplete = function () { resolve(); };
        tx.onerror = function () { reject(tx.error); };
      };
    });
  }

  function syncLater(item) {
    if (!hasSync || !worker) return;
    idb("readwrite", function (store) { store.put(item); })
      .then(function () { return worker.then(function (reg) { return reg.sync.register(SYNC_TAG); }); })
      .catch(function () { /* the page's own retries still send it */ });
  }

  function syncDone(id) {
    if (hasSync) idb("readwrite", function (store) { store.delete(id); }).catch(function () {});
  }

  if (hasSync && badge && badge.getAttribute("data-sw-url")) {
    var swUrl = badge.getAttribute("data-sw-url");
    worker = navigator.serviceWorker.register(swUrl, { scope: swUrl.replace(/[^/]*$/, "") }).then(function () {
      return navigator.serviceWorker.ready;
    });
    worker.catch(function () { worker = null; });
    navigator.serviceWorker.addEventListener("message", function (event) {
      var data = event.data || {};
      if (data.type !== "cho40-onboard-sent") return;
      var item = loadQueue().find(function (i) { return i.id === data.id; });
      if (!item) return;
      if (data.ok) {
        saveQueue(loadQueue().filter(function (i) { return i.id !== data.id; }));
        renderBadge([{ name: item.name, url: data.url }]);
      } else {
        flush();  // refused: the page asks again itself, and marks it to correct
      }
    });
  }

  function enqueue(form) {
    var fields = [];
    new FormData(form).forEach(function (value, key) {
      if (key !== "csrfmiddlewaretoken") fields.push([key, String(value)]);
    });
    var get = function (k) { var f = fields.find(function (p) { return p[0] === k; }); return f ? f[1] : ""; };
    var items = loadQueue().filter(function (item) { return item.id !== get("client_ref"); });
    var item = { id: get("client_ref"), url: form.action, fields: fields, name: get("full_name"), state: "waiting", savedAt: Date.now() };
    items.push(item);
    saveQueue(items);
    syncLater(Object.assign({ csrf: csrfToken() }, item));
  }

  function renderBadge(sent) {
    if (!badge) return;
    var items = loadQueue();
    var waiting = items.filter(function (i) { return i.state === "waiting"; });
    var failed = items.filter(function (i) { return i.state === "failed"; });
    badge.textContent = "";
    if (waiting.length) {
      var w = document.createElement("span");
      w.className = "onboard-queue__waiting";
      w.setAttribute("data-testid", "queue-waiting");
      w.textContent = label("waiting") + " (" + waiting.length + "): " + waiting.map(function (i) { return i.name; }).join(", ");
      badge.appendChild(w);
    }
    failed.forEach(function (item) {
      var p = document.createElement("span");
      p.className = "onboard-queue__failed";
      var a = document.createElement("a");
      a.href = item.url + "#restore=" + encodeURIComponent(item.id);
      a.textContent = label("failed") + ": " + item.name;
      p.appendChild(a);
      badge.appendChild(p);
    });
    (sent || []).forEach(function (done) {
      var s = document.createElement("span");
      s.className = "onboard-queue__sent";
      s.setAttribute("data-testid", "queue-sent");
      var a = document.createElement("a");
      a.href = done.url;
      a.textContent = label("sent") + ": " + done.name;
      s.appendChild(a);
      badge.appendChild(s);
    });
    badge.hidden = !badge.childNodes.length;
  }

  function post(url, body) {
    var controller = "AbortController" in window ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, SEND_TIMEOUT_MS) : null;
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      signal: controller ? controller.signal : undefined,
    }).finally(function () { if (timer) clearTimeout(timer); });
  }

  function registered(response) {
    // Success is the redirect to the trader's done screen; a redirect anywhere
    // else (the sign-in page, after the session ended) is not.
    return response.ok && response.redirected && response.url.indexOf("done=1") !== -1;
  }

  function flush() {
    if (flushing) return Promise.resolve();
    var pending = loadQueue().filter(function (i) { return i.state === "waiting"; });
    if (!pending.length) { renderBadge(); return Promise.resolve(); }
    flushing = true;
    var sent = [];
    var chain = Promise.resolve();
    pending.forEach(function (item) {
      chain = chain.then(function () {
        var body = new FormData();
        item.fields.forEach(function (p) { body.append(p[0], p[1]); });
        body.append("csrfmiddlewaretoken", csrfToken());
        return post(item.url, body).then(function (response) {
          var items = loadQueue();
          if (registered(response)) {
            saveQueue(items.filter(function (i) { return i.id !== item.id; }));
            syncDone(item.id);
            sent.push({ name: item.name, url: response.url.split("?")[0] });
          } else if (response.status === 400 || response.status === 409) {
            // The server refused it (a mistake in the form, or the trader is
            // already registered): the volunteer opens it to see why.
            items.forEach(function (i) { if (i.id === item.id) i.state = "failed"; });
            saveQueue(items);
            syncDone(item.id);
          }
          // Anything else (5xx, 403, the sign-in page): kept, tried again later.
        }).catch(function () { /* still offline: kept */ });
      });
    });
    return chain.then(function () {
      flushing = false;
      renderBadge(sent);
    });
  }

  window.addEventListener("online", flush);
  setInterval(function () { if (loadQueue().some(function (i) { return i.state === "waiting"; })) flush(); }, RETRY_MS);

  // --- the new-trader form --------------------------------------------------------

  var form = document.querySelector("[data-onboard-form]");

  function restore(id) {
    // A queued form the server refused: put it back in the form and send it
    // the ordinary way, so that the page shows the server's answer.
    var items = loadQueue();
    var item = items.find(function (i) { return i.id === id; });
    if (!item || !form) return false;
    saveQueue(items.filter(function (i) { return i.id !== id; }));
    item.fields.forEach(function (p) {
      var field = form.elements[p[0]];
      if (!field) return;
      if (field.type === "checkbox") field.checked = true;
      else if (field instanceof RadioNodeList) field.value = p[1];
      else field.value = p[1];
    });
    history.replaceState(null, "", location.pathname);
    HTMLFormElement.prototype.submit.call(form);
    return true;
  }

  function setUpForm() {
    // After a refusal, the screen reader and the eye start at what went wrong.
    var problem = document.querySelector(".error-summary, .onboard-duplicate");
    if (problem) problem.focus();
    var nameInput = form.elements.full_name;
    var accountNameInput = form.elements.account_name;
    var accountNumber = form.elements.account_number;
    var consent = form.elements.consent;
    var consentAt = form.elements.consent_at;
    var select = form.querySelector("[data-bank-select]");
    var searchBox = form.querySelector("[data-bank-search]");
    var search = searchBox && searchBox.querySelector("input");
    var submit = form.querySelector("[data-submit]");

    // Account name as the bank prints it, from the name, until edited by hand.
    var touched = !!accountNameInput.value && accountNameInput.value !== accountName(nameInput.value);
    accountNameInput.addEventListener("input", function () { touched = !!accountNameInput.value; });
    nameInput.addEventListener("input", function () {
      if (!touched) accountNameInput.value = accountName(nameInput.value);
    });

    consent.addEventListener("change", function () { consentAt.value = consent.checked ? String(Date.now()) : ""; });

    // Bank search: every word typed must be in the bank's folded names/BIN;
    // one match (or an exact short name, code or BIN) selects it.
    if (search && select) {
      searchBox.hidden = false;
      var options = Array.prototype.slice.call(select.options, 1);
      search.addEventListener("input", function () {
        var words = fold(search.value).split(" ").filter(Boolean);
        var matches = options.filter(function (o) {
          var hay = o.getAttribute("data-search");
          var ok = words.every(function (w) { return hay.indexOf(w) !== -1; });
          o.hidden = !ok;
          return ok;
        });
        var exact = words.length === 1 && options.find(function (o) {
          return o.getAttribute("data-search").split(" ").indexOf(words[0]) !== -1 && !o.hidden;
        });
        var pick = matches.length === 1 ? matches[0] : exact;
        if (pick) select.value = pick.value;
        else if (select.selectedOptions[0] && select.selectedOptions[0].hidden) select.value = "";
      });
    }

    setUpScan(select, accountNumber, accountNameInput, function () { return touched; });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (submit) submit.disabled = true;
      var queueIt = function () {
        enqueue(form);
        renderBadge();
        resetForNext();
        if (submit) submit.disabled = false;
        flash(label("saved"));
      };
      if (navigator.onLine === false) { queueIt(); return; }
      var body = new FormData(form);
      post(form.action, body).then(function (response) {
        if (registered(response)) { location.href = response.url; return; }
        // Refused, or something unexpected: send it the ordinary way (the same
        // submission id, so at most one trader) to show the server's page.
        HTMLFormElement.prototype.submit.call(form);
      }).catch(queueIt);
    });

    function resetForNext() {
      var keep = { csrfmiddlewaretoken: 1, consent_version: 1 };
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || keep[el.name]) return;
        if (el.type === "checkbox") el.checked = false;
        else if (el.type === "radio") el.checked = el.defaultChecked;
        else if (el.tagName === "SELECT") el.value = "";
        else el.value = "";
      });
      if (search) { search.value = ""; search.dispatchEvent(new Event("input")); }
      form.elements.client_ref.value = newId();
      touched = false;
      window.scrollTo(0, 0);
    }
  }

  function flash(text) {
    if (!text || !badge) return;
    var note = document.createElement("span");
    note.className = "onboard-queue__note";
    note.textContent = text;
    badge.insertBefore(note, badge.firstChild);
    badge.hidden = false;
  }

  // --- camera scan of the trader's bank QR ---------------------------------------

  function setUpScan(select, accountNumber, accountNameInput, nameTouched) {
    var box = form.querySelector("[data-scan]");
    if (!box || typeof window.jsQR !== "function" || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
    box.hidden = false;
    var view = box.querySelector("[data-scan-view]");
    var video = box.querySelector("[data-scan-video]");
    var status = box.querySelector("[data-scan-status]");
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    var stream = null;
    var text = function (key) { return box.getAttribute("data-label-" + key) || ""; };

    function stop() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      view.hidden = true;
    }

    function tick() {
      if (!stream) return;
      if (video.readyState >= 2 && video.videoWidth) {
        var scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
        if (code && code.data) { stop(); decode(code.data); return; }
      }
      setTimeout(tick, 120);
    }

    function decode(payload) {
      status.textContent = text("reading");
      fetch(form.getAttribute("data-decode-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
        body: JSON.stringify({ payload: payload }),
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      }).then(function (result) {
        if (!result.ok) {
          status.textContent = text("not-vietqr") + " (" + ((result.body.error || {}).message || "") + ")";
          return;
        }
        var qr = result.body;
        var option = Array.prototype.find.call(select.options, function (o) { return o.value === qr.bank_bin; });
        if (!option) { status.textContent = text("unknown-bank") + " " + qr.bank_bin; return; }
        option.hidden = false;
        select.value = qr.bank_bin;
        accountNumber.value = qr.account_number;
        if (qr.merchant_name && !nameTouched()) accountNameInput.value = accountName(qr.merchant_name);
        status.textContent = text("read") + " " + (qr.bank_short_name || qr.bank_bin) + " · " + qr.account_number;
        status.setAttribute("data-scanned", "1");
      }).catch(function () {
        status.textContent = text("offline");
      });
    }

    box.querySelector("[data-scan-start]").addEventListener("click", function () {
      status.textContent = text("opening");
      status.removeAttribute("data-scanned");
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (s) {
        stream = s;
        video.srcObject = s;
        view.hidden = false;
        status.textContent = text("aim");
        return video.play();
      }).then(tick).catch(function () {
        stop();
        status.textContent = text("no-camera");
      });
    });
    box.querySelector("[data-scan-stop]").addEventListener("click", function () {
      stop();
      status.textContent = "";
    });
  }

  // --- start ---------------------------------------------------------------------------

  var restoring = false;
  if (form) {
    setUpForm();
    var match = location.hash.match(/restore=([0-9a-f-]+)/);
    if (match) restoring = restore(decodeURIComponent(match[1]));
  }
  if (!restoring) flush();
})();
