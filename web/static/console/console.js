/*
 * The map console's plugin host: window.DisasterConsole.
 *
 * Plugins (web/static/console/plugins/*.js, included by the page in name order) call
 *   DisasterConsole.addOverlay(id, {title, load: async (map) => L.Layer, refreshSeconds,
 *                                   visible, reloadOnMove})
 *   DisasterConsole.addPanel(id, {title, render: async (element) => void, refreshSeconds})
 * and may use DisasterConsole.fetchJSON(url), .sendJSON(method, url, body), .escapeHtml(text),
 * .t({zh_CN, en}), .popup(title, rows), .viewParams(map) and .map (set once the map exists).
 *
 * Overlays sit in one layer control; those with `priority: true` load before the rest. Each is loaded when first shown, reloaded every
 * refreshSeconds while shown, and (reloadOnMove) after the view moves, so geometry can be
 * fetched for the current bounding box and simplified for the current zoom.
 * Pop-ups must carry escaped text only: build them with popup() (textContent) or escapeHtml().
 */
(function () {
  'use strict';

  var overlays = [];
  var panels = [];
  var started = false;  // true once every overlay and panel registered so far is installed
  var control = null;
  var statusEl = null;
  var config = {};

  function escapeHtml(text) {
    return String(text === null || text === undefined ? '' : text)
      .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }

  function t(messages) {
    if (typeof messages === 'string') { return messages; }
    var lang = DisasterConsole.lang;
    return messages[lang] || messages[lang.split('_')[0]] || messages.zh_CN || messages.en || '';
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }

  async function readResponse(response, url) {
    var body = null;
    var type = response.headers.get('Content-Type') || '';
    if (type.indexOf('json') >= 0) { body = await response.json(); }
    if (!response.ok) {
      var message = body && body.error ? body.error.message : response.statusText;
      var error = new Error(url + ': ' + response.status + ' ' + message);
      error.status = response.status;
      error.body = body;
      if (response.status === 401) { window.location.assign(config.loginUrl || '/login'); }
      throw error;
    }
    return body;
  }

  /** GET a JSON document of the app (with the session cookie); throws on HTTP errors. */
  async function fetchJSON(url) {
    var response = await fetch(url, {credentials: 'same-origin',
                                     headers: {'Accept': 'application/json'}});
    return readResponse(response, url);
  }

  /** Send a JSON body (POST/PATCH/...) with the CSRF token the cookie session requires. */
  async function sendJSON(method, url, body, headers) {
    var h = {'Accept': 'application/json', 'Content-Type': 'application/json',
             'X-CSRFToken': csrfToken()};
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    var response = await fetch(url, {method: method, credentials: 'same-origin', headers: h,
                                     body: body === undefined ? undefined : JSON.stringify(body)});
    return readResponse(response, url);
  }

  /** A pop-up element: a title and rows of [label, value], all set as text (never HTML). */
  function popup(title, rows) {
    var root = document.createElement('div');
    var head = document.createElement('div');
    head.className = 'popup-title';
    head.textContent = title === null || title === undefined ? '' : String(title);
    root.appendChild(head);
    var table = document.createElement('table');
    table.className = 'popup-table';
    (rows || []).forEach(function (row) {
      if (row[1] === null || row[1] === undefined || row[1] === '') { return; }
      var tr = document.createElement('tr');
      var th = document.createElement('th');
      th.textContent = String(row[0]);
      var td = document.createElement('td');
      td.textContent = String(row[1]);
      tr.appendChild(th);
      tr.appendChild(td);
      table.appendChild(tr);
    });
    root.appendChild(table);
    return root;
  }

  /** Query string for the current view: zoom and bounding box (padded by 20 %). */
  function viewParams(map) {
    var b = map.getBounds().pad(0.2);
    var f = function (v) { return v.toFixed(4); };
    return 'zoom=' + map.getZoom() + '&bbox=' + [f(b.getWest()), f(b.getSouth()),
                                                  f(b.getEast()), f(b.getNorth())].join(',');
  }

  function setStatus(text, isError) {
    if (!statusEl) { return; }
    statusEl.textContent = text;
    statusEl.className = 'console-status' + (isError ? ' error' : '');
  }

  function clock() {
    return new Date().toLocaleTimeString(DisasterConsole.lang === 'en' ? 'en-GB' : 'zh-CN',
                                         {hour12: false});
  }

  async function loadOverlay(entry) {
    var map = DisasterConsole.map;
    var seq = ++entry.seq;
    entry.container.fire('loading');
    try {
      var layer = await entry.spec.load(map);
      if (seq !== entry.seq) { return; }  // a newer load overtook this one
      entry.container.clearLayers();
      if (layer) { entry.container.addLayer(layer); }
      entry.loaded = true;
      entry.error = null;
      entry.container.fire('load');
      setStatus(t({zh_CN: '已更新 ', en: 'Updated '}) + clock());
    } catch (err) {
      entry.error = err;
      setStatus(entry.title + ': ' + err.message, true);
      if (window.console) { window.console.error(err); }
    }
  }

  function shown(entry) {
    return DisasterConsole.map && DisasterConsole.map.hasLayer(entry.container);
  }

  function installOverlay(entry) {
    var map = DisasterConsole.map;
    control.addOverlay(entry.container, escapeHtml(entry.title));
    entry.container.on('add', function () { loadOverlay(entry); });
    if (entry.spec.refreshSeconds > 0) {
      entry.timer = window.setInterval(function () {
        if (shown(entry)) { loadOverlay(entry); }
      }, entry.spec.refreshSeconds * 1000);
    }
    if (entry.spec.reloadOnMove) {
      var pending = null;
      map.on('moveend', function () {
        if (!shown(entry)) { return; }
        window.clearTimeout(pending);
        pending = window.setTimeout(function () { loadOverlay(entry); }, 250);
      });
    }
    if (entry.spec.visible !== false) { entry.container.addTo(map); }
  }

  /** Register a map overlay; it appears in the layer control. */
  function addOverlay(id, spec) {
    if (!spec || typeof spec.load !== 'function') {
      throw new Error('DisasterConsole.addOverlay(' + id + '): spec.load must be a function');
    }
    var entry = {id: id, spec: spec, title: t(spec.title || id), seq: 0, loaded: false,
                 container: L.layerGroup()};
    overlays.push(entry);
    if (control && started) { installOverlay(entry); }
    return entry.container;
  }

  async function renderPanel(entry) {
    try {
      await entry.spec.render(entry.body);
    } catch (err) {
      entry.body.textContent = err.message;
      if (window.console) { window.console.error(err); }
    }
  }

  function installPanel(entry) {
    var host = document.getElementById('console-panels');
    var section = document.createElement('section');
    section.className = 'console-panel';
    section.id = 'panel-' + entry.id;
    var h = document.createElement('h2');
    h.textContent = entry.title;
    section.appendChild(h);
    section.appendChild(entry.body);
    host.appendChild(section);
    renderPanel(entry);
    if (entry.spec.refreshSeconds > 0) {
      entry.timer = window.setInterval(function () { renderPanel(entry); },
                                       entry.spec.refreshSeconds * 1000);
    }
  }

  /** Register a side panel rendered into its own element. */
  function addPanel(id, spec) {
    if (!spec || typeof spec.render !== 'function') {
      throw new Error('DisasterConsole.addPanel(' + id + '): spec.render must be a function');
    }
    var entry = {id: id, spec: spec, title: t(spec.title || id), body: document.createElement('div')};
    panels.push(entry);
    if (control && started) { installPanel(entry); }
    return entry.body;
  }

  /** Called once by the page after folium created the map: installs everything registered. */
  function start(map, options) {
    config = options || {};
    DisasterConsole.map = map;
    // Open on the loaded areas; no animation, so no moveend reloads the overlays right away.
    if (config.bounds) { map.fitBounds(config.bounds, {animate: false}); }
    var bases = {};
    var blank = L.layerGroup();
    bases[t({zh_CN: '离线底图（行政边界）', en: 'Offline (boundaries only)'})] = blank;
    (config.tileLayers || []).forEach(function (tl) {
      if (window[tl.variable]) { bases[escapeHtml(tl.title)] = window[tl.variable]; }
    });
    if (!(config.tileLayers || []).some(function (tl) { return map.hasLayer(window[tl.variable]); })) {
      blank.addTo(map);
    }
    control = L.control.layers(bases, {}, {collapsed: false, position: 'topright'}).addTo(map);
    statusEl = document.createElement('div');
    statusEl.className = 'console-status';
    statusEl.setAttribute('role', 'status');
    map.getContainer().appendChild(statusEl);
    // Overlays marked `priority` (the boundaries and communities) load first; the other
    // overlays and the panels start once those are drawn (or after 2 s), so that on a
    // two-core server their requests do not delay the map a duty officer is waiting for.
    var first = overlays.filter(function (e) { return e.spec.priority; });
    var rest = overlays.filter(function (e) { return !e.spec.priority; });
    var released = false;
    function release() {
      if (released) { return; }
      released = true;
      started = true;
      rest.forEach(installOverlay);
      panels.forEach(installPanel);
    }
    first.forEach(function (entry) {
      entry.container.on('load', function () {
        if (first.every(function (e) { return e.loaded || e.error || !shown(e); })) { release(); }
      });
    });
    first.forEach(installOverlay);
    if (!first.some(shown)) { release(); }
    window.setTimeout(release, 2000);
  }

  /** Reload an overlay now (e.g. after a write changed what it shows). */
  function reload(id) {
    overlays.forEach(function (entry) {
      if (entry.id === id && shown(entry)) { loadOverlay(entry); }
    });
  }

  var DisasterConsole = window.DisasterConsole = {
    map: null,
    lang: document.documentElement.getAttribute('lang') === 'en' ? 'en' : 'zh_CN',
    addOverlay: addOverlay,
    addPanel: addPanel,
    fetchJSON: fetchJSON,
    sendJSON: sendJSON,
    escapeHtml: escapeHtml,
    popup: popup,
    t: t,
    viewParams: viewParams,
    reload: reload,
    start: start,
    overlays: overlays,
    panels: panels
  };
}());
