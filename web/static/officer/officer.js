/* Officer phone page: reports are queued in IndexedDB with their Idempotency-Key and sent
 * when the connection allows, so a report filed with no signal is never lost nor filed
 * twice (the server answers a replayed key with the first result). */
(function () {
  "use strict";

  var DB_NAME = "officer-reports";
  var STORE = "outbox";
  var SENT = "sent";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var userMeta = document.querySelector('meta[name="officer-user"]');
  var userId = userMeta ? userMeta.content : "0";
  var flushing = null;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME + "-" + userId, 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: "key" });
        if (!db.objectStoreNames.contains(SENT)) db.createObjectStore(SENT, { keyPath: "key" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function tx(store, mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode);
        var result = fn(t.objectStore(store));
        t.oncomplete = function () { db.close(); resolve(result && result.result); };
        t.onerror = function () { db.close(); reject(t.error); };
      });
    });
  }

  function all(store) { return tx(store, "readonly", function (s) { return s.getAll(); }); }
  function put(store, item) { return tx(store, "readwrite", function (s) { s.put(item); }); }
  function remove(store, key) { return tx(store, "readwrite", function (s) { s.delete(key); }); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "k-" + Date.now() + "-" + Math.random().toString(16).slice(2);
  }

  function text(el, value) { el.textContent = value; return el; }

  function describe(item) {
    var d = item.data;
    return d.community + " · " + d.kind + " · " + d.occurred_at.replace("T", " ").slice(0, 16)
      + " · " + (d.affected_people || 0);
  }

  function render() {
    var box = document.getElementById("outbox");
    var sentBox = document.getElementById("sent");
    return Promise.all([all(STORE), all(SENT)]).then(function (res) {
      var waiting = res[0].sort(function (a, b) { return a.created - b.created; });
      box.replaceChildren();
      waiting.forEach(function (item) {
        var li = document.createElement("li");
        li.className = item.status === "rejected" ? "rejected" : "waiting";
        li.dataset.key = item.key;
        li.appendChild(text(document.createElement("span"), describe(item) + " — "
          + (item.status === "rejected" ? box.dataset.rejected + ": " + item.error
                                        : box.dataset.waiting)));
        if (item.status === "rejected") {
          var b = text(document.createElement("button"), box.dataset.remove);
          b.type = "button";
          b.addEventListener("click", function () { remove(STORE, item.key).then(render); });
          li.appendChild(b);
        }
        box.appendChild(li);
      });
      if (!waiting.length) box.appendChild(text(document.createElement("li"), box.dataset.empty));
      document.getElementById("outbox-count").textContent = String(
        waiting.filter(function (i) { return i.status !== "rejected"; }).length);
      sentBox.replaceChildren();
      res[1].sort(function (a, b) { return b.sentAt - a.sentAt; }).slice(0, 10).forEach(function (item) {
        var li = document.createElement("li");
        li.className = "sent";
        li.dataset.key = item.key;
        text(li, describe(item) + " — #" + item.reportId);
        sentBox.appendChild(li);
      });
    });
  }

  function errorText(body) {
    var err = (body && body.error) || {};
    var fields = err.fields || {};
    var parts = Object.keys(fields).map(function (k) { return k + ": " + fields[k].join("; "); });
    return (err.message || "error") + (parts.length ? " (" + parts.join(" | ") + ")" : "");
  }

  function sendOne(item) {
    var form = new FormData();
    form.append("report", JSON.stringify(item.data));
    (item.photos || []).forEach(function (blob, i) { form.append("photos", blob, "photo" + i); });
    return fetch("/api/v1/reports", {
      method: "POST", body: form, credentials: "same-origin",
      headers: { "Idempotency-Key": item.key, "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) {
          return remove(STORE, item.key).then(function () {
            return put(SENT, { key: item.key, data: item.data, reportId: body.id, sentAt: Date.now() });
          }).then(function () { return "sent"; });
        }
        if (response.status >= 400 && response.status < 500 && response.status !== 401
            && response.status !== 408 && response.status !== 429) {
          // Refused on its merits: sending it again cannot help; show why.
          item.status = "rejected";
          item.error = errorText(body);
          return put(STORE, item).then(function () { return "rejected"; });
        }
        throw new Error("HTTP " + response.status);  // server trouble or signed out: retry later
      });
    });
  }

  var again = false;

  function flush() {
    // A flush asked for while one runs (say the "online" event arriving while the sends of
    // an offline attempt are still failing) must run again afterwards, not be dropped.
    if (flushing) { again = true; return flushing; }
    again = false;
    flushing = all(STORE).then(function (items) {
      var queue = items.filter(function (i) { return i.status !== "rejected"; })
        .sort(function (a, b) { return a.created - b.created; });
      var chain = Promise.resolve();
      var stop = false;
      queue.forEach(function (item) {
        chain = chain.then(function () {
          if (stop) return null;
          return sendOne(item).catch(function () { stop = true; });  // offline: keep waiting
        });
      });
      return chain;
    }).then(render, render).then(function () {
      flushing = null;
      if (again) return flush();
      return null;
    }, function () { flushing = null; });
    return flushing;
  }

  function showNet() {
    var el = document.getElementById("net-status");
    var online = navigator.onLine;
    el.classList.toggle("offline", !online);
    el.textContent = online ? el.dataset.online : el.dataset.offline;
  }

  function localNow() {
    var d = new Date();
    d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
    return d.toISOString().slice(0, 16);
  }

  function withOffset(local) {
    // A datetime-local value carries no zone: attach the phone's own offset.
    var d = new Date(local);
    var off = -d.getTimezoneOffset();
    var sign = off >= 0 ? "+" : "-";
    var abs = Math.abs(off);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return local + ":00" + sign + two(Math.floor(abs / 60)) + ":" + two(abs % 60);
  }

  function position() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(function (p) {
        resolve({ type: "Point", coordinates: [p.coords.longitude, p.coords.latitude] });
      }, function () { resolve(null); }, { timeout: 10000, maximumAge: 60000 });
    });
  }

  function checkFigures(data) {
    var errors = {};
    Object.keys(data).forEach(function (k) {
      if (typeof data[k] === "number" && (!(data[k] >= 0))) errors[k] = "≥ 0";
    });
    var a = data.affected_people;
    if (data.dead + data.missing > a) errors.dead = errors.missing = "≤ affected_people";
    if (data.evacuated > a) errors.evacuated = "≤ affected_people";
    if (data.needing_aid > a) errors.needing_aid = "≤ affected_people";
    if (data.crop_damaged_ha > data.crop_affected_ha) errors.crop_damaged_ha = "≤ crop_affected_ha";
    if (data.crop_lost_ha > data.crop_damaged_ha) errors.crop_lost_ha = "≤ crop_damaged_ha";
    [["collapsed_rooms", "collapsed_households"], ["severely_damaged_rooms", "severely_damaged_households"],
     ["generally_damaged_rooms", "generally_damaged_households"]].forEach(function (p) {
      if (data[p[0]] < data[p[1]]) errors[p[0]] = "≥ " + p[1];
    });
    return errors;
  }

  function onSubmit(event) {
    event.preventDefault();
    var form = event.target;
    var data = {};
    Array.prototype.forEach.call(form.querySelectorAll("input[type=number]"), function (input) {
      data[input.name] = input.value === "" ? 0 : Number(input.value);
    });
    data.community = form.community.value;
    data.kind = form.kind.value;
    data.hazard = form.hazard.value;
    data.occurred_at = withOffset(form.occurred_at.value || localNow());
    data.notes = form.notes.value;
    form.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
    var errors = checkFigures(data);
    var names = Object.keys(errors);
    if (names.length) {
      names.forEach(function (name) {
        var el = form.querySelector('.field-error[data-field="' + name + '"]');
        if (el) el.textContent = errors[name];
      });
      return;
    }
    var files = Array.prototype.slice.call(form.photos.files || []);
    var located = form.use_location.checked ? position() : Promise.resolve(null);
    // Everything is read: clear the form now, not after the asynchronous store write, which
    // would wipe whatever the officer has started entering for the next report meanwhile.
    form.reset();
    form.occurred_at.value = localNow();
    located.then(function (loc) {
      if (loc) data.location = loc;
      var item = { key: newKey(), data: data, photos: files, created: Date.now(), status: "waiting" };
      return put(STORE, item);  // stored before any send: nothing is lost if the phone dies now
    }).then(render).then(flush);
  }

  function ack(event) {
    var button = event.target.closest("button.ack");
    if (!button) return;
    button.disabled = true;
    fetch("/api/v1/alerts/" + button.dataset.alert + "/ack", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (r) {
      if (r.ok) button.closest("li").remove();
      else button.disabled = false;
    }, function () { button.disabled = false; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("report-form");
    form.occurred_at.value = localNow();
    form.addEventListener("submit", onSubmit);
    document.getElementById("alerts").addEventListener("click", ack);
    window.addEventListener("online", function () { showNet(); flush(); });
    window.addEventListener("offline", showNet);
    showNet();
    render().then(flush);
    setInterval(function () { if (navigator.onLine) flush(); }, 30000);
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/officer/sw.js", { scope: "/officer/" });
    }
  });

  window.OfficerOutbox = { flush: flush, pending: function () { return all(STORE); } };
})();
