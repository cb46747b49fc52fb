/* Chợ 4.0 — the onboarding pages' service worker (served at /onboard/sw.js,
 * scope /onboard/). Its only job is Background Sync, where the browser has it
 * (Chromium): forms the page could not send are also kept in IndexedDB
 * (database "cho40-onboard", store "queue"), and on the "cho40-onboard-send"
 * sync event, which the browser fires once the network is back, even with
 * the tab closed, this sends them. The page's own retries (online event, page
 * load) send the same forms too: each carries its submission id, so whichever
 * arrives second answers the trader already registered. Nothing is cached.
 */
"use strict";

var DB = "cho40-onboard";
var STORE = "queue";
var TAG = "cho40-onboard-send";

function openDb() {
  return new Promise(function (resolve, reject) {
    var request = indexedDB.open(DB, 1);
    request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "id" }); };
    request.onsuccess = function () { resolve(request.result); };
    request.onerror = function () { reject(request.error); };
  });
}

function withStore(mode, work) {
  return openDb().then(function (db) {
    return new Promise(function (resolve, reject) {
      var tx = db.transaction(STORE, mode);
      var result = work(tx.objectStore(STORE));
      tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
      tx.onerror = function () { reject(tx.error); };
    });
  });
}

function sendOne(item) {
  var body = new FormData();
  item.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
  body.append("csrfmiddlewaretoken", item.csrf || "");
  return fetch(item.url, { method: "POST", body: body, credentials: "same-origin" }).then(function (response) {
    var registered = response.ok && response.redirected && response.url.indexOf("done=1") !== -1;
    if (registered || response.status === 400 || response.status === 409) {
      // Sent, or refused for good: the page shows a refusal from its own copy.
      return withStore("readwrite", function (store) { store.delete(item.id); }).then(function () {
        return self.clients.matchAll({ includeUncontrolled: true }).then(function (clients) {
          clients.forEach(function (client) {
            client.postMessage({ type: "cho40-onboard-sent", id: item.id, ok: registered, url: response.url.split("?")[0] });
          });
        });
      });
    }
    throw new Error("not sent yet: " + response.status);
  });
}

function sendAll() {
  return withStore("readonly", function (store) { return store.getAll(); }).then(function (items) {
    return Promise.all((items || []).map(sendOne));
  });
}

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });
self.addEventListener("sync", function (event) {
  if (event.tag === TAG) event.waitUntil(sendAll());
});
