/* Chợ 4.0 — checking a customer's confirmation code (/stall/code/, docs/stall.md
 * "Checking a code (online and offline)").
 *
 * Online: the form is posted with fetch (Accept: application/json) and the
 * server's answer, rendered by the server, replaces the answer box. Without
 * this script the form posts normally.
 *
 * Offline (navigator.onLine false, or the request fails for want of a network):
 * the code is checked on this phone with the stall's offline key, exactly as
 * docs/code-entry.md §4 says (HMAC-SHA256 over counter ‖ amount, RFC 4226
 * truncation, look-ahead window), and an accepted code is queued and shown as
 * PROVISIONAL. When the phone is online again (page load, the "online" event)
 * the queue goes to POST /api/v1/payments/offline-sync/ and each item shows the
 * server's final answer.
 *
 * localStorage:
 *   cho40.device             this phone's id (shared with the stall page)
 *   cho40.codekey.<vendor>   {key, last, synced, window, used: [counters]}
 *   cho40.codequeue.<vendor> [{client_uuid, code, amount, captured_at, status, reason, counter}]
 */
(function () {
  "use strict";

  var DEVICE_KEY = "cho40.device";
  var DEVICE_ID = /^[A-Za-z0-9._:-]{1,64}$/;
  var RECHECK_MS = 30000;
  var KEEP_SETTLED_MS = 24 * 3600 * 1000;

  // --- the code algorithm (docs/code-entry.md §4) -------------------------------------
  function hexToBytes(hex) {
    var bytes = new Uint8Array(hex.length / 2);
    for (var i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
    return bytes;
  }

  function hotp(keyHex, counter, amount) {
    var message = new Uint8Array(16);
    var view = new DataView(message.buffer);
    view.setBigUint64(0, BigInt(counter));
    view.setBigUint64(8, BigInt(amount));
    return crypto.subtle
      .importKey("raw", hexToBytes(keyHex), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
      .then(function (key) { return crypto.subtle.sign("HMAC", key, message); })
      .then(function (signature) {
        var d = new Uint8Array(signature);
        var o = d[d.length - 1] & 0x0f;
        var n = ((d[o] & 0x7f) << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3];
        return String(n % 1000000).padStart(6, "0");
      });
  }
  window.cho40Hotp = hotp; // for the browser test against the documented test vector

  // --- storage -----------------------------------------------------------------------
  function load(name, fallback) {
    try {
      var value = JSON.parse(localStorage.getItem(name));
      return value === null ? fallback : value;
    } catch (e) {
      return fallback;
    }
  }
  function save(name, value) { localStorage.setItem(name, JSON.stringify(value)); }

  function deviceId() {
    var id = localStorage.getItem(DEVICE_KEY);
    if (!id || !DEVICE_ID.test(id)) {
      var random = new Uint8Array(12);
      crypto.getRandomValues(random);
      id = "web-" + Array.from(random, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
      localStorage.setItem(DEVICE_KEY, id);
    }
    return id;
  }

  function newUuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.from(b, function (x) { return x.toString(16).padStart(2, "0"); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function formatDong(value) { return new Intl.NumberFormat("vi-VN").format(value) + " ₫"; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- the page ----------------------------------------------------------------------
  function start(root) {
    var strings = JSON.parse(document.getElementById("code-strings").textContent);
    var vendor = root.getAttribute("data-vendor");
    var keyName = "cho40.codekey." + vendor;
    var queueName = "cho40.codequeue." + vendor;
    var windowSize = Number(root.getAttribute("data-window")) || 10;
    var form = root.querySelector("[data-code-form]");
    var resultBox = root.querySelector("[data-result]");
    var queueSection = root.querySelector("[data-queue-section]");
    var queueList = root.querySelector("[data-queue]");
    var keyState = root.querySelector("[data-key-state]");
    var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
    var syncing = false;
    var shownUuid = null; // the queued item whose provisional answer the box shows

    function showKeyState() {
      var key = load(keyName, null);
      keyState.hidden = false;
      keyState.textContent = key ? strings.key_ready : strings.key_none;
      keyState.setAttribute("data-ready", key ? "1" : "0");
    }

    // The offline key. The server hands it out once per device id (409 after
    // that: keep what is stored), and again after a rotation revoked the
    // phone's grant: asked on every online visit, so a rotated key replaces the old one.
    function fetchKey() {
      if (root.getAttribute("data-offline-ready") !== "1" || !navigator.onLine) return Promise.resolve();
      var url = root.getAttribute("data-key-url") + "?device_id=" + encodeURIComponent(deviceId());
      return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (response) {
          // 409: already issued to this device id and kept here or lost; nothing to store.
          if (!response.ok) return null;
          return response.json();
        })
        .then(function (body) {
          if (body && body.key) {
            save(keyName, { key: body.key, last: body.counter, synced: body.counter, window: body.window, used: [] });
          }
        })
        .catch(function () {})
        .then(showKeyState);
    }

    // --- the queue --------------------------------------------------------------------
    function statusText(item) {
      if (item.status === "matched") return strings.status_matched;
      if (item.status === "pending") return item.reason === "throttled" ? strings.status_throttled : strings.status_pending;
      if (item.status === "flagged") return strings.status_flagged + " " + (strings.reasons[item.reason] || item.reason);
      if (item.status === "error") return strings.status_error + " " + (item.reason || "");
      return strings.status_queued;
    }

    function drawQueue() {
      var queue = load(queueName, []);
      queueList.textContent = "";
      queue.slice().reverse().forEach(function (item) {
        var li = el("li", "queue__item queue__item--" + item.status);
        li.setAttribute("data-status", item.status);
        li.appendChild(el("span", "queue__amount", formatDong(item.amount)));
        li.appendChild(el("span", "mono", "••••" + item.code.slice(-2)));
        li.appendChild(el("span", "muted", new Date(item.captured_at).toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" })));
        li.appendChild(el("span", "queue__status", statusText(item)));
        queueList.appendChild(li);
      });
      queueSection.hidden = queue.length === 0;
    }

    function prune(queue) {
      var now = Date.now();
      return queue.filter(function (item) {
        var open = item.status === "queued" || item.status === "pending";
        return open || now - new Date(item.captured_at).getTime() < KEEP_SETTLED_MS;
      });
    }

    function sync() {
      var queue = load(queueName, []);
      var open = queue.filter(function (item) { return item.status === "queued" || item.status === "pending"; });
      if (syncing || !open.length || !navigator.onLine) return Promise.resolve();
      syncing = true;
      var batch = open.slice(0, 100).map(function (item) {
        return { client_uuid: item.client_uuid, code: item.code, amount: item.amount, captured_at: item.captured_at };
      });
      return fetch(root.getAttribute("data-sync-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ confirmations: batch }),
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (!body) return;
          var byUuid = {};
          body.results.forEach(function (r) { byUuid[r.client_uuid] = r; });
          var stored = load(queueName, []).map(function (item) {
            var r = byUuid[item.client_uuid];
            if (!r) return item;
            item.status = r.status;
            item.reason = r.status === "error" ? (r.error && r.error.message) || "" : r.flag_reason;
            return item;
          });
          save(queueName, prune(stored));
          settleShown(stored);
          // The server's counter moves the look-ahead window forward (docs/code-entry.md §4, step 3).
          var key = load(keyName, null);
          if (key && typeof body.counter === "number") {
            key.last = body.counter;
            key.synced = body.counter;
            save(keyName, key);
          }
        })
        .catch(function () {})
        .then(function () {
          syncing = false;
          drawQueue();
        });
    }

    // --- offline check ----------------------------------------------------------------
    function verdict(kind, title, body, tag, outcome) {
      var box = el("div", "verdict verdict--" + kind);
      box.setAttribute("role", "alert");
      box.setAttribute("data-testid", "verdict");
      box.setAttribute("data-outcome", outcome || kind);
      if (tag) box.appendChild(el("span", "verdict__tag", tag));
      box.appendChild(el("p", "verdict__title", title));
      if (body) box.appendChild(el("p", "", body));
      resultBox.textContent = "";
      resultBox.appendChild(box);
    }

    // The server's final answer replaces the provisional one still on screen.
    function settleShown(queue) {
      var item = queue.filter(function (i) { return i.client_uuid === shownUuid; })[0];
      if (!item || item.status === "queued" || item.status === "pending") return;
      shownUuid = null;
      if (item.status === "matched") {
        verdict("valid", "✓ " + strings.settled_title, formatDong(item.amount) + " · ••••" + item.code.slice(-2), "", "matched");
      } else {
        verdict("wrong", "✗ " + strings.refused_title, statusText(item) + ". " + strings.refused_body, "", item.status);
      }
    }

    function checkOffline(code, amount) {
      var key = load(keyName, null);
      if (!key) {
        verdict("offline", strings.nokey_title, strings.nokey_body, "", "nokey");
        return Promise.resolve();
      }
      var used = key.used || [];
      var synced = typeof key.synced === "number" ? key.synced : key.last;
      var top = key.last + (key.window || windowSize);
      // The look-ahead window after the highest counter matched, and the counters
      // skipped below it since the last sync (codes shown out of order).
      var counters = [];
      for (var c = synced + 1; c <= top; c++) counters.push(c);
      var tries = used.concat(counters.filter(function (c) { return used.indexOf(c) < 0; }));
      return Promise.all(tries.map(function (c) { return hotp(key.key, c, amount); })).then(function (found) {
        var index = found.indexOf(code);
        if (index < 0) {
          // Maybe a code beyond the window: "check online", not a flat refusal (docs/code-entry.md §4).
          verdict("offline", strings.nomatch_title, strings.nomatch_body, "", "nomatch");
          return;
        }
        var counter = tries[index];
        if (used.indexOf(counter) >= 0) {
          verdict("used", strings.reused_title, strings.reused_body);
          return;
        }
        key.used = used.concat([counter]).slice(-200);
        key.last = Math.max(key.last, counter);
        save(keyName, key);
        var queue = load(queueName, []);
        queue.push({
          client_uuid: newUuid(),
          code: code,
          amount: amount,
          captured_at: new Date().toISOString(),
          status: "queued",
          reason: "",
          counter: counter,
        });
        save(queueName, queue);
        shownUuid = queue[queue.length - 1].client_uuid;
        verdict("provisional", strings.provisional_title, strings.provisional_body, strings.provisional_tag);
        form.reset(); // ready for the next customer
        drawQueue();
      });
    }

    form.addEventListener("submit", function (event) {
      var code = form.elements.code.value.trim();
      var amount = Number(form.elements.amount.value);
      if (!/^\d{6}$/.test(code) || !(amount >= 1)) return; // the server explains what is wrong
      event.preventDefault();
      shownUuid = null;
      if (!navigator.onLine) {
        checkOffline(code, amount);
        return;
      }
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
        body: new FormData(form),
      }).then(
        function (response) {
          var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
          if (!json) {
            form.submit(); // signed out meanwhile, or a proxy page: let the browser show it
            return;
          }
          return response.json().then(function (body) {
            if (body.html) {
              resultBox.innerHTML = body.html;
              form.reset();
            } else if (body.error) {
              verdict("wrong", body.error.message, "");
            }
          });
        },
        function () { return checkOffline(code, amount); } // no network after all
      );
    });

    window.addEventListener("online", function () { fetchKey().then(sync); });
    drawQueue();
    showKeyState();
    fetchKey().then(sync);
    setInterval(sync, RECHECK_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-code-check]");
    if (root) start(root);
  });
})();
