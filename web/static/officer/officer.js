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
  var textEl = document.getElementById("officer-text");
  var TEXT = textEl ? JSON.parse(textEl.textContent) : { labels: {}, kinds: {} };
  var feedbackTimer = null;

  function fill(template, values) {
    return String(template || "").replace(/%\((\w+)\)s/g, function (m, name) {
      return values[name] === undefined ? m : String(values[name]);
    });
  }

  function label(field) { return (TEXT.labels && TEXT.labels[field]) || field; }

  /* A confirmation or problem the officer must see wherever they are on the page. */
  function feedback(message, isError) {
    var el = document.getElementById("feedback");
    if (!el) return;
    el.textContent = message;
    el.className = "feedback" + (isError ? " error" : " ok");
    el.hidden = false;
    window.clearTimeout(feedbackTimer);
    feedbackTimer = window.setTimeout(function () { el.hidden = true; }, 10000);
  }

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
    return (item.communityName || d.community) + " · " + (TEXT.kinds[d.kind] || "")
      + " · " + String(d.occurred_at || "").replace("T", " ").slice(0, 16)
      + " · " + label("affected_people") + " " + (d.affected_people || 0);
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
          + (item.status === "rejected" ? box.dataset.rejected + "：" + item.error
                                        : box.dataset.waiting)));
        if (item.status === "rejected") {
          // Refused on its merits: the officer corrects it in the form, or drops it.
          var edit = text(document.createElement("button"), box.dataset.edit);
          edit.type = "button";
          edit.className = "edit";
          edit.addEventListener("click", function () {
            loadIntoForm(item.data, item.mode === "resend" ? item : null);
            remove(STORE, item.key).then(render);
          });
          li.appendChild(edit);
          var b = text(document.createElement("button"), box.dataset.remove);
          b.type = "button";
          b.className = "secondary";
          b.addEventListener("click", function () { remove(STORE, item.key).then(render); });
          li.appendChild(b);
        }
        box.appendChild(li);
      });
      if (!waiting.length) box.appendChild(text(document.createElement("li"), box.dataset.empty));
      // Everything not yet accepted counts: a refused report still waits, for a correction.
      document.getElementById("outbox-count").textContent = String(waiting.length);
      hideHandledReturns(waiting, res[1]);
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
    // The server translated the messages; the field names become the form's labels.
    var err = (body && body.error) || {};
    var fields = err.fields || {};
    var parts = Object.keys(fields).map(function (k) {
      return label(k) + "：" + fields[k].join("；");
    });
    return parts.length ? parts.join("；") : (err.message || "");
  }

  function post(item) {
    var headers = { "Idempotency-Key": item.key, "X-CSRFToken": csrf, "Accept": "application/json" };
    if (item.mode === "resend") {
      // A correction of a returned report: the figures go back to the same report.
      var fields = {};
      Object.keys(item.data).forEach(function (k) {
        if (["community", "kind", "hazard"].indexOf(k) < 0) fields[k] = item.data[k];
      });
      headers["Content-Type"] = "application/json";
      return fetch("/api/v1/reports/" + item.reportId + "/resend", {
        method: "POST", body: JSON.stringify(fields), credentials: "same-origin", headers: headers
      });
    }
    var form = new FormData();
    form.append("report", JSON.stringify(item.data));
    (item.photos || []).forEach(function (blob, i) { form.append("photos", blob, "photo" + i); });
    return fetch("/api/v1/reports", {
      method: "POST", body: form, credentials: "same-origin", headers: headers
    });
  }

  function sendOne(item) {
    return post(item).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) {
          return remove(STORE, item.key).then(function () {
            return put(SENT, { key: item.key, data: item.data, reportId: body.id, sentAt: Date.now(),
                               communityName: item.communityName, mode: item.mode,
                               returnedAt: item.returnedAt });
          }).then(function () {
            var template = item.mode === "resend" ? TEXT.resent
              : item.queuedOffline ? TEXT.stored_late : TEXT.stored;
            feedback(fill(template, { id: body.id }));
            return "sent";
          });
        }
        if (response.status >= 400 && response.status < 500 && response.status !== 401
            && response.status !== 408 && response.status !== 429) {
          // Refused on its merits: sending it again cannot help; show why.
          item.status = "rejected";
          item.error = errorText(body);
          feedback(fill(TEXT.refused, { reason: item.error }), true);
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
          return sendOne(item).catch(function () {
            stop = true;  // offline: keep waiting, and say so once it is sent later
            if (!item.queuedOffline) {
              item.queuedOffline = true;
              feedback(TEXT.queued);
              return put(STORE, item);
            }
            return null;
          });
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
    // The same rules as the server (validation.py), said with the form's labels.
    var errors = {};
    function atMost(field) { return fill(TEXT.at_most, { field: label(field) }); }
    Object.keys(data).forEach(function (k) {
      if (typeof data[k] === "number" && (!(data[k] >= 0))) errors[k] = TEXT.not_negative;
    });
    var a = data.affected_people;
    if (data.dead + data.missing > a) errors.dead = errors.missing = atMost("affected_people");
    if (data.evacuated > a) errors.evacuated = atMost("affected_people");
    if (data.needing_aid > a) errors.needing_aid = atMost("affected_people");
    if (data.crop_damaged_ha > data.crop_affected_ha) errors.crop_damaged_ha = atMost("crop_affected_ha");
    if (data.crop_lost_ha > data.crop_damaged_ha) errors.crop_lost_ha = atMost("crop_damaged_ha");
    [["collapsed_rooms", "collapsed_households"], ["severely_damaged_rooms", "severely_damaged_households"],
     ["generally_damaged_rooms", "generally_damaged_households"]].forEach(function (p) {
      if (data[p[0]] < data[p[1]]) errors[p[0]] = fill(TEXT.at_least, { field: label(p[1]) });
    });
    return errors;
  }

  function toLocalInput(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return localNow();
    d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
    return d.toISOString().slice(0, 16);
  }

  /* Put a report's values into the form; with ``target`` (a returned report, or a refused
   * correction) the form corrects that report instead of filing a new one. */
  function loadIntoForm(data, target) {
    var form = document.getElementById("report-form");
    leaveCorrection(form);
    Array.prototype.forEach.call(form.querySelectorAll("input[type=number]"), function (input) {
      var v = (data.figures || data)[input.name];
      input.value = v === undefined || v === null ? 0 : v;
    });
    if (data.community) form.community.value = data.community;
    if (data.kind) form.kind.value = data.kind;
    if (data.hazard) form.hazard.value = data.hazard;
    form.occurred_at.value = data.occurred_at ? toLocalInput(data.occurred_at) : localNow();
    form.notes.value = data.notes || "";
    if (target) {
      form.dataset.reportId = String(target.reportId || target.id);
      form.dataset.returnedAt = target.returnedAt || target.returned_at || "";
      form.dataset.communityName = target.communityName || target.community_name || "";
      [form.community, form.kind, form.hazard].forEach(function (el) { el.disabled = true; });
      document.getElementById("report-heading").textContent = TEXT.correcting;
      document.getElementById("report-submit").textContent = TEXT.resend;
      document.getElementById("cancel-correction").hidden = false;
      document.getElementById("photos-field").hidden = true;
      var note = document.getElementById("correcting");
      var comment = target.comment || target.reviewComment;
      note.textContent = (target.communityName || target.community_name || "") + " · "
        + (TEXT.kinds[data.kind] || "") + (comment ? " — " + comment : "");
      note.hidden = false;
    }
    document.getElementById("report-card").scrollIntoView();
  }

  function leaveCorrection(form) {
    delete form.dataset.reportId;
    delete form.dataset.returnedAt;
    delete form.dataset.communityName;
    [form.community, form.kind, form.hazard].forEach(function (el) { el.disabled = false; });
    document.getElementById("report-heading").textContent = TEXT.file;
    document.getElementById("report-submit").textContent = TEXT.submit;
    document.getElementById("cancel-correction").hidden = true;
    document.getElementById("photos-field").hidden = false;
    document.getElementById("correcting").hidden = true;
  }

  /* Returned reports whose correction waits on the phone or was sent since the page was
   * made are no longer the officer's to do: hide them and count the rest. */
  function hideHandledReturns(waiting, sent) {
    var list = document.getElementById("returned");
    var count = document.getElementById("returned-count");
    if (!list || !count) return;
    var handled = {};
    waiting.concat(sent).forEach(function (item) {
      if (item.mode === "resend") handled[item.reportId + "@" + (item.returnedAt || "")] = true;
    });
    var open = 0;
    Array.prototype.forEach.call(list.querySelectorAll("li.returned"), function (li) {
      var done = handled[li.dataset.reportId + "@" + li.dataset.returnedAt];
      li.hidden = !!done;
      if (!done) open += 1;
    });
    count.textContent = String(open);
    count.classList.toggle("zero", open === 0);
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
    var option = form.community.options[form.community.selectedIndex];
    var item = { key: newKey(), data: data, created: Date.now(), status: "waiting",
                 communityName: form.dataset.communityName
                   || (option ? option.textContent.replace(/\s*\(\d+\)\s*$/, "") : "") };
    if (form.dataset.reportId) {
      item.mode = "resend";
      item.reportId = Number(form.dataset.reportId);
      item.returnedAt = form.dataset.returnedAt || "";
    }
    var files = item.mode ? [] : Array.prototype.slice.call(form.photos.files || []);
    var located = form.use_location.checked ? position() : Promise.resolve(null);
    // Everything is read: clear the form now, not after the asynchronous store write, which
    // would wipe whatever the officer has started entering for the next report meanwhile.
    form.reset();
    leaveCorrection(form);
    form.occurred_at.value = localNow();
    located.then(function (loc) {
      if (loc) item.data.location = loc;
      item.photos = files;
      return put(STORE, item);  // stored before any send: nothing is lost if the phone dies now
    }).then(render).then(function () {
      if (!navigator.onLine) {
        item.queuedOffline = true;
        feedback(TEXT.queued);
        return put(STORE, item).then(flush);
      }
      return flush();
    });
  }

  function ack(event) {
    var button = event.target.closest("button.ack");
    if (!button) return;
    button.disabled = true;
    var li = button.closest("li");
    var headline = li.querySelector("span") ? li.querySelector("span").textContent : "";
    fetch("/api/v1/alerts/" + button.dataset.alert + "/ack", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" }
    }).then(function (r) {
      if (r.ok) {
        // Keep the warning in view, marked: the officer sees what was confirmed.
        li.classList.add("acked");
        button.replaceWith(text(document.createElement("strong"), "✓ " + TEXT.acknowledged_badge));
        feedback(fill(TEXT.acknowledged, { headline: headline }));
        return null;
      }
      return r.json().catch(function () { return {}; }).then(function (body) {
        button.disabled = false;
        feedback(fill(TEXT.ack_failed, { reason: errorText(body) }), true);
      });
    }, function () {
      button.disabled = false;
      feedback(TEXT.offline_error, true);
    });
  }

  function onCorrect(event) {
    var button = event.target.closest("button.correct");
    if (!button) return;
    var report = JSON.parse(button.closest("li").dataset.report);
    loadIntoForm(report, report);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("report-form");
    form.occurred_at.value = localNow();
    form.addEventListener("submit", onSubmit);
    document.getElementById("alerts").addEventListener("click", ack);
    var returned = document.getElementById("returned");
    if (returned) returned.addEventListener("click", onCorrect);
    document.getElementById("cancel-correction").addEventListener("click", function () {
      form.reset();
      leaveCorrection(form);
      form.occurred_at.value = localNow();
    });
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
