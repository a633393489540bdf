/*
 * The map console's plugin host: window.DisasterConsole.
 *
 * Plugins (web/static/console/plugins/*.js, included by the page in name order) call
 *   DisasterConsole.addOverlay(id, {title, load: async (map) => L.Layer, refreshSeconds,
 *                                   visible, reloadOnMove})
 *   DisasterConsole.addPanel(id, {title, render: async (element) => void, refreshSeconds})
 * and may use DisasterConsole.fetchJSON(url), .sendJSON(method, url, body), .escapeHtml(text),
 * .t({zh_CN, en}), .hazards / .levels (names of hazard and level codes), .popup(title, rows), .viewParams(map), .polygonLayer(geojson, options) (one
 * canvas for very many polygons, see .manyPolygons(n)), .areaNames() (a promise of
 * {area code: name} for counties and townships, fetched once, to show names instead of codes),
 * .localTime(iso) (Beijing time, as every time on the pages) and .map (set once the map exists).
 *
 * Overlays sit in one layer control; those with `priority: true` load before the rest. Each is loaded when first shown, reloaded every
 * refreshSeconds while shown, and (reloadOnMove) after the view moves, so geometry can be
 * fetched for the current bounding box and simplified for the current zoom. An overlay with
 * `replacedBy: ['other-id', ...]` is left out when one of those overlays is registered too
 * (the core's plain shelter and depot dots give way to the plugins' richer symbols, so each
 * kind of place has one layer and no two markers sit on the same spot).
 * Pop-ups must carry escaped text only: build them with popup() (textContent) or escapeHtml().
 *
 * The legend: every symbol a plugin draws is explained by
 *   DisasterConsole.addLegend(id, {title, overlay, note, entries: [{symbol, label}]})
 * title, note and label are {zh_CN, en} (or plain text); overlay is the id of the overlay the
 * entries belong to (they are dimmed while it is hidden and left out when it does not exist);
 * a later addLegend with the same id replaces the earlier one (a plugin may refine the core's
 * entries for its overlay). symbol: {kind: 'fill'|'dot'|'ring'|'line'|'bar'|'glyph',
 * colour, border, dash (e.g. '6 4'), width (px, lines), share (0..1, bars), text (glyph)}.
 * The layer box and the legend are the first section of the side bar, so they never cover
 * the map, and the side bar comes before the map's markers in the keyboard's tab order.
 */
(function () {
  'use strict';

  var overlays = [];
  var panels = [];
  var legends = [];  // [{id, spec}] in registration order
  var legendEl = null;
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
    // An empty string is a translation too (e.g. a unit one language leaves out).
    var keys = [lang, lang.split('_')[0], 'zh_CN', 'en'];
    for (var i = 0; i < keys.length; i++) {
      if (typeof messages[keys[i]] === 'string') { return messages[keys[i]]; }
    }
    return '';
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
      // People read the server's message (translated for the session's language), never a
      // URL or a status code; a reply without one gets a sentence of our own.
      var message = body && body.error && body.error.message ? body.error.message
        : t(response.status === 403 ? {zh_CN: '无权执行此操作。', en: 'You are not allowed to do this.'}
          : response.status === 404 ? {zh_CN: '未找到所请求的数据。', en: 'The data asked for was not found.'}
            : {zh_CN: '服务器未能处理请求，请稍后重试。', en: 'The server could not handle the request; try again later.'});
      var error = new Error(message);
      error.url = url;
      error.status = response.status;
      error.body = body;
      if (response.status === 401) { window.location.assign(config.loginUrl || '/login'); }
      throw error;
    }
    return body;
  }

  /** GET a JSON document of the app (with the session cookie); throws on HTTP errors. */
  async function fetchJSON(url) {
    var response = await send(url, {credentials: 'same-origin',
                                    headers: {'Accept': 'application/json'}});
    return readResponse(response, url);
  }

  /** fetch(), with the browser's own (English) network errors replaced by a sentence. */
  async function send(url, init) {
    try {
      return await fetch(url, init);
    } catch (err) {
      var error = new Error(t({zh_CN: '无法连接服务器，请检查网络。',
                               en: 'Cannot reach the server; check the connection.'}));
      error.url = url;
      error.cause = err;
      throw error;
    }
  }

  /** Send a JSON body (POST/PATCH/...) with the CSRF token the cookie session requires. */
  async function sendJSON(method, url, body, headers) {
    var h = {'Accept': 'application/json', 'Content-Type': 'application/json',
             'X-CSRFToken': csrfToken()};
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    var response = await send(url, {method: method, credentials: 'same-origin', headers: h,
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
                                         {hour12: false, timeZone: 'Asia/Shanghai'});
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

  function replaced(entry) {
    var by = entry.spec.replacedBy || [];
    return overlays.some(function (other) { return by.indexOf(other.id) >= 0; });
  }

  function installOverlay(entry) {
    var map = DisasterConsole.map;
    if (replaced(entry)) { entry.skipped = true; return; }
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


  /** Register (or replace) the legend entries of an overlay; see the header. */
  function addLegend(id, spec) {
    if (!spec || !Array.isArray(spec.entries)) {
      throw new Error('DisasterConsole.addLegend(' + id + '): spec.entries must be a list');
    }
    var at = legends.findIndex(function (l) { return l.id === id; });
    if (at >= 0) { legends[at] = {id: id, spec: spec}; } else { legends.push({id: id, spec: spec}); }
    renderLegend();
  }

  /** A legend symbol drawn with styles only (never HTML from data). */
  function legendSymbol(symbol) {
    var s = symbol || {};
    var box = document.createElement('span');
    box.className = 'legend-symbol legend-' + (s.kind || 'fill');
    box.setAttribute('aria-hidden', 'true');
    var colour = s.colour || '#9aa5ad';
    if (s.kind === 'line') {
      var line = document.createElement('span');
      line.className = 'legend-stroke';
      line.style.borderTop = (s.width || 3) + 'px ' + (s.dash ? 'dashed' : 'solid') + ' ' + colour;
      box.appendChild(line);
    } else if (s.kind === 'bar') {
      var fill = document.createElement('span');
      fill.className = 'legend-bar-fill';
      fill.style.width = Math.round(100 * Math.max(0, Math.min(1, s.share === undefined ? 1 : s.share))) + '%';
      fill.style.background = colour;
      box.style.borderColor = s.border || '#2c3440';
      box.appendChild(fill);
    } else if (s.kind === 'glyph') {
      box.textContent = s.text || '!';
      box.style.color = colour;
    } else if (s.kind === 'ring') {
      box.style.borderColor = colour;
    } else {
      box.style.background = colour;
      if (s.border) { box.style.borderColor = s.border; }
    }
    return box;
  }

  function overlayEntry(id) {
    return overlays.filter(function (e) { return e.id === id; })[0] || null;
  }

  function renderLegend() {
    if (!legendEl) { return; }
    legendEl.textContent = '';
    legends.forEach(function (item) {
      var spec = item.spec;
      var entry = spec.overlay ? overlayEntry(spec.overlay) : null;
      if (spec.overlay && (!entry || entry.skipped)) { return; }
      var group = document.createElement('div');
      group.className = 'legend-group' + (entry && !shown(entry) ? ' legend-hidden' : '');
      group.setAttribute('data-legend', item.id);
      var head = document.createElement('div');
      head.className = 'legend-title';
      head.textContent = t(spec.title || (entry ? entry.title : item.id));
      if (entry && !shown(entry)) {
        var off = document.createElement('span');
        off.className = 'muted';
        off.textContent = t({zh_CN: '（图层未显示）', en: ' (layer hidden)'});
        head.appendChild(off);
      }
      group.appendChild(head);
      // A hidden layer's entries take no room: its title says it is there to switch on.
      if (entry && !shown(entry)) { legendEl.appendChild(group); return; }
      var list = document.createElement('div');
      list.className = 'legend-entries';
      spec.entries.forEach(function (e) {
        var row = document.createElement('span');
        row.className = 'legend-entry';
        row.appendChild(legendSymbol(e.symbol));
        row.appendChild(document.createTextNode(t(e.label)));
        list.appendChild(row);
      });
      group.appendChild(list);
      if (spec.note) {
        var note = document.createElement('div');
        note.className = 'legend-note';
        note.textContent = t(spec.note);
        group.appendChild(note);
      }
      legendEl.appendChild(group);
    });
  }

  /** The side bar's first section: the layer box and the legend (collapsible, remembered). */
  function buildLayerSection(map) {
    var host = document.getElementById('console-panels');
    var section = document.createElement('details');
    section.className = 'console-panel console-layers';
    section.id = 'console-layers';
    var key = 'disaster.console.layers.open';
    var stored = null;
    try { stored = window.localStorage.getItem(key); } catch (e) { stored = null; }
    section.open = stored !== '0';
    section.addEventListener('toggle', function () {
      try { window.localStorage.setItem(key, section.open ? '1' : '0'); } catch (e) { /* private mode */ }
    });
    var summary = document.createElement('summary');
    summary.textContent = t({zh_CN: '图层与图例', en: 'Layers and legend'});
    section.appendChild(summary);
    var box = control.getContainer();
    box.setAttribute('aria-label', t({zh_CN: '地图图层', en: 'Map layers'}));
    section.appendChild(box);
    legendEl = document.createElement('div');
    legendEl.className = 'legend';
    legendEl.id = 'console-legend';
    legendEl.setAttribute('aria-label', t({zh_CN: '图例', en: 'Legend'}));
    section.appendChild(legendEl);
    host.insertBefore(section, host.firstChild);
    map.on('overlayadd overlayremove', renderLegend);
    renderLegend();
  }

  /** Leaflet's own control texts (zoom buttons, attribution, layer toggle) in the page's language. */
  function translateControls(map) {
    var label = function (el, text) {
      if (!el) { return; }
      el.title = text;
      el.setAttribute('aria-label', text);
    };
    if (map.zoomControl) {
      label(map.zoomControl._zoomInButton, t({zh_CN: '放大', en: 'Zoom in'}));
      label(map.zoomControl._zoomOutButton, t({zh_CN: '缩小', en: 'Zoom out'}));
    }
    if (map.attributionControl) {
      // The library's credit stays (its licence asks for it); only its tooltip is translated.
      map.attributionControl.setPrefix('<a href="https://leafletjs.com" title="' +
        escapeHtml(t({zh_CN: '开源交互式地图库', en: 'A JavaScript library for interactive maps'})) +
        '">Leaflet</a>');
    }
    label(control.getContainer().querySelector('.leaflet-control-layers-toggle'),
          t({zh_CN: '图层', en: 'Layers'}));
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
    buildLayerSection(map);
    translateControls(map);
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
      renderLegend();
    }
    first.forEach(function (entry) {
      entry.container.on('load', function () {
        if (first.every(function (e) { return e.loaded || e.error || !shown(e); })) { release(); }
      });
    });
    first.forEach(installOverlay);
    renderLegend();
    if (!first.some(shown)) { release(); }
    window.setTimeout(release, 2000);
  }

  /*
   * polygonLayer: tens of thousands of polygons on one canvas.
   *
   * L.geoJSON makes one Leaflet layer per feature (a LatLng object per vertex, a fill and a
   * stroke call per polygon), which for a province's 20,000 communities costs most of a
   * second before anything shows. This layer keeps the rings in flat typed arrays in Web
   * Mercator metres, draws the polygons of one fill style in paths of a few dozen (no Leaflet
   * object per polygon), and finds the clicked feature by bounding box then ray
   * casting. It is a canvas renderer of its own, so it pans, zooms (animated) and resizes
   * with the map like any Leaflet vector layer.
   */
  var EARTH_RADIUS = 6378137;
  var MAX_LATITUDE = 85.0511287798;

  function mercator(lng, lat, out, at) {
    var d = Math.PI / 180;
    var sin = Math.sin(Math.max(Math.min(MAX_LATITUDE, lat), -MAX_LATITUDE) * d);
    out[at] = EARTH_RADIUS * lng * d;
    out[at + 1] = EARTH_RADIUS * Math.log((1 + sin) / (1 - sin)) / 2;
  }

  /** Flatten the Polygon and MultiPolygon features of a FeatureCollection into arrays. */
  function flattenPolygons(collection) {
    var features = [];
    var rings = [];  // [feature index, ring as [[lng, lat], ...]]
    var vertices = 0;
    (collection.features || []).forEach(function (f) {
      var g = f && f.geometry;
      if (!g) { return; }
      var polygons = g.type === 'Polygon' ? [g.coordinates]
        : g.type === 'MultiPolygon' ? g.coordinates : [];
      if (!polygons.length) { return; }
      var index = features.length;
      features.push(f);
      polygons.forEach(function (polygon) {
        polygon.forEach(function (ring) {
          if (ring.length >= 3) { rings.push([index, ring]); vertices += ring.length; }
        });
      });
    });
    var xy = new Float64Array(vertices * 2);
    var ringStart = new Int32Array(rings.length + 1);
    var firstRing = new Int32Array(features.length + 1);
    var bbox = new Float64Array(features.length * 4);
    for (var b = 0; b < features.length; b++) {
      bbox[4 * b] = bbox[4 * b + 1] = Infinity;
      bbox[4 * b + 2] = bbox[4 * b + 3] = -Infinity;
    }
    var at = 0;
    var feature = -1;
    for (var r = 0; r < rings.length; r++) {
      var owner = rings[r][0];
      var ring = rings[r][1];
      while (feature < owner) { firstRing[++feature] = r; }
      ringStart[r] = at / 2;
      for (var i = 0; i < ring.length; i++) {
        mercator(ring[i][0], ring[i][1], xy, at);
        var k = 4 * owner;
        if (xy[at] < bbox[k]) { bbox[k] = xy[at]; }
        if (xy[at + 1] < bbox[k + 1]) { bbox[k + 1] = xy[at + 1]; }
        if (xy[at] > bbox[k + 2]) { bbox[k + 2] = xy[at]; }
        if (xy[at + 1] > bbox[k + 3]) { bbox[k + 3] = xy[at + 1]; }
        at += 2;
      }
    }
    while (feature < features.length) { firstRing[++feature] = rings.length; }
    ringStart[rings.length] = at / 2;
    return {features: features, xy: xy, ringStart: ringStart, firstRing: firstRing, bbox: bbox};
  }

  function insideRings(data, f, mx, my) {
    // Even-odd rule over all rings of the feature: holes count as outside.
    var inside = false;
    var xy = data.xy;
    for (var r = data.firstRing[f]; r < data.firstRing[f + 1]; r++) {
      var start = data.ringStart[r];
      var end = data.ringStart[r + 1];
      for (var i = start, j = end - 1; i < end; j = i++) {
        var xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
        if ((yi > my) !== (yj > my) && mx < (xj - xi) * (my - yi) / (yj - yi) + xi) {
          inside = !inside;
        }
      }
    }
    return inside;
  }

  // Every polygon canvas on the map: the topmost canvas receives the pointer events of all
  // of them, so it asks each (top pane first) for the feature under the pointer.
  var activeCanvases = [];

  function paneOrder(layer) {
    return parseInt(layer.getPane().style.zIndex, 10) || 0;
  }

  function hitAt(map, latlng) {
    var layers = activeCanvases.filter(function (c) { return c._map === map; })
      .sort(function (a, b) { return paneOrder(b) - paneOrder(a); });
    for (var i = 0; i < layers.length; i++) {
      var feature = layers[i].featureAt(latlng);
      if (feature) { return {layer: layers[i], feature: feature}; }
    }
    return null;
  }

  var PolygonCanvas = L.Canvas.extend({
    initialize: function (collection, options) {
      L.Canvas.prototype.initialize.call(this, options);
      this._data = flattenPolygons(collection);
      var styleOf = this.options.style || function () { return {}; };
      var groups = {};
      this._groups = [];
      for (var f = 0; f < this._data.features.length; f++) {
        var s = styleOf(this._data.features[f]) || {};
        var fillColor = s.fillColor || '#9aa5ad';
        var fillOpacity = s.fillOpacity === undefined ? 0.2 : s.fillOpacity;
        var key = fillColor + '|' + fillOpacity;
        if (!groups[key]) {
          groups[key] = {fillColor: fillColor, fillOpacity: fillOpacity, members: []};
          this._groups.push(groups[key]);
        }
        groups[key].members.push(f);
      }
    },

    /** How many features the layer holds. */
    featureCount: function () { return this._data.features.length; },

    /** The GeoJSON feature under a lat/lng, or null (the last drawn wins, as on screen). */
    featureAt: function (latlng) {
      var p = [0, 0];
      mercator(latlng.lng, latlng.lat, p, 0);
      var data = this._data;
      for (var f = data.features.length - 1; f >= 0; f--) {
        var k = 4 * f;
        if (p[0] < data.bbox[k] || p[0] > data.bbox[k + 2] ||
            p[1] < data.bbox[k + 1] || p[1] > data.bbox[k + 3]) { continue; }
        if (insideRings(data, f, p[0], p[1])) { return data.features[f]; }
      }
      return null;
    },

    onAdd: function () {
      // The renderer listens to its own 'update' only after the first _update(): draw once.
      L.Renderer.prototype.onAdd.call(this);
      activeCanvases.push(this);
      this._drawAll();
    },

    onRemove: function () {
      activeCanvases = activeCanvases.filter(function (c) { return c !== this; }, this);
      L.Canvas.prototype.onRemove.call(this);
    },

    _onZoomEnd: function () {},  // nothing projected per feature: the next draw projects
    _draw: function () { this._drawAll(); },
    _redraw: function () { this._redrawRequest = null; this._drawAll(); },

    _updatePaths: function () {
      if (this._postponeUpdatePaths) { return; }
      this._drawAll();
    },

    _drawAll: function () {
      var map = this._map;
      if (!map || !this._ctx || !this._bounds) { return; }
      var ctx = this._ctx;
      var bounds = this._bounds;
      var size = bounds.getSize();
      ctx.clearRect(bounds.min.x, bounds.min.y, size.x, size.y);
      // Layer point = k * mercator + c (the CRS transformation is linear per zoom).
      var crs = map.options.crs;
      var scale = crs.scale(map.getZoom());
      var o = crs.transformation.transform(L.point(0, 0), scale);
      var u = crs.transformation.transform(L.point(1, 1), scale);
      var origin = map.getPixelOrigin();
      var kx = u.x - o.x, ky = u.y - o.y, cx = o.x - origin.x, cy = o.y - origin.y;
      var data = this._data;
      var xy = data.xy;
      var minX = bounds.min.x, minY = bounds.min.y, maxX = bounds.max.x, maxY = bounds.max.y;
      var stroke = this.options.stroke || {};
      var visible = [];
      // A few dozen polygons per path: Chromium's path cost grows faster than linearly in
      // its number of sub-paths (20,000 rings in one path take seconds, in chunks of 25
      // they take milliseconds), while one call per polygon pays the call overhead.
      var CHUNK = 25;
      var paint = function (members, draw) {
        for (var c = 0; c < members.length; c += CHUNK) {
          ctx.beginPath();
          for (var m = c; m < Math.min(members.length, c + CHUNK); m++) {
            var f = members[m];
            for (var r = data.firstRing[f]; r < data.firstRing[f + 1]; r++) {
              var start = data.ringStart[r], end = data.ringStart[r + 1];
              ctx.moveTo(kx * xy[2 * start] + cx, ky * xy[2 * start + 1] + cy);
              for (var i = start + 1; i < end; i++) {
                ctx.lineTo(kx * xy[2 * i] + cx, ky * xy[2 * i + 1] + cy);
              }
              ctx.closePath();
            }
          }
          draw();
        }
      };
      this._groups.forEach(function (group) {
        var members = group.members.filter(function (f) {
          // Cull what lies outside the canvas (ky is negative: north is up).
          var k = 4 * f;
          return !(kx * data.bbox[k + 2] + cx < minX || kx * data.bbox[k] + cx > maxX ||
                   ky * data.bbox[k + 1] + cy < minY || ky * data.bbox[k + 3] + cy > maxY);
        });
        if (!members.length) { return; }
        ctx.globalAlpha = group.fillOpacity;
        ctx.fillStyle = group.fillColor;
        paint(members, function () { ctx.fill('evenodd'); });
        visible.push(members);
      });
      if (stroke.weight !== 0 && visible.length) {
        ctx.globalAlpha = stroke.opacity === undefined ? 1 : stroke.opacity;
        ctx.strokeStyle = stroke.color || '#6b7680';
        ctx.lineWidth = stroke.weight || 0.6;
        ctx.lineJoin = 'round';
        ctx.setLineDash(stroke.dashArray || []);
        paint([].concat.apply([], visible), function () { ctx.stroke(); });
        ctx.setLineDash([]);
      }
      ctx.globalAlpha = 1;
      this.fire('drawn');
    },

    _onClick: function (e) {
      var map = this._map;
      // The map sees the event as a click on itself (pre-click closes an open pop-up) ...
      this._fireEvent(false, e);
      if (e.type !== 'click' || (map.dragging && map.dragging.moved())) { return; }
      // ... then the layer whose feature is under the pointer, if any, gets it.
      var latlng = map.mouseEventToLatLng(e);
      var hit = hitAt(map, latlng);
      if (hit && hit.layer.options.onClick) { hit.layer.options.onClick(hit.feature, latlng); }
    },

    _handleMouseHover: function (e) {
      if (this._mouseHoverThrottled) { return; }
      var over = !!hitAt(this._map, this._map.mouseEventToLatLng(e));
      L.DomUtil[over ? 'addClass' : 'removeClass'](this._container, 'leaflet-interactive');
      this._fireEvent(false, e);
      this._mouseHoverThrottled = true;
      var self = this;
      window.setTimeout(function () { self._mouseHoverThrottled = false; }, 32);
    },

    _handleMouseOut: function () {
      L.DomUtil.removeClass(this._container, 'leaflet-interactive');
    }
  });

  /**
   * A canvas layer for very many polygons (see PolygonCanvas above).
   * options: pane, style(feature) -> {fillColor, fillOpacity}, stroke {color, weight,
   * opacity, dashArray}, onClick(feature, latlng).
   */
  function polygonLayer(collection, options) {
    return new PolygonCanvas(collection, options);
  }

  // Above this many polygons a layer should use polygonLayer: one canvas draws far faster
  // than an SVG element per polygon, while below it SVG keeps each polygon an element of
  // the page. window.DISASTER_CANVAS_THRESHOLD overrides it (the browser tests set 0).
  var CANVAS_THRESHOLD = 4000;

  /** Whether ``n`` polygons are better drawn by polygonLayer than by L.geoJSON. */
  function manyPolygons(n) {
    var limit = window.DISASTER_CANVAS_THRESHOLD;
    return n > (typeof limit === 'number' ? limit : CANVAS_THRESHOLD);
  }

  var areaNamesPromise = null;

  /** {code: name} of the counties and townships (fetched once per page). */
  function areaNames() {
    if (!areaNamesPromise) {
      areaNamesPromise = fetchJSON('/api/v1/areas?zoom=0').then(function (fc) {
        var names = {};
        (fc.features || []).forEach(function (f) { names[f.properties.code] = f.properties.name; });
        return names;
      }, function (err) { areaNamesPromise = null; throw err; });
    }
    return areaNamesPromise;
  }

  /** An ISO time as Beijing time (the bureau's time, whatever the browser's zone). */
  function localTime(iso) {
    if (!iso) { return ''; }
    var d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toLocaleString(DisasterConsole.lang === 'en' ? 'en-GB' : 'zh-CN',
      {timeZone: 'Asia/Shanghai', hour12: false, year: 'numeric', month: '2-digit', day: '2-digit',
       hour: '2-digit', minute: '2-digit'});
  }

  /** Reload an overlay now (e.g. after a write changed what it shows). */
  function reload(id) {
    overlays.forEach(function (entry) {
      if (entry.id === id && shown(entry)) { loadOverlay(entry); }
    });
  }

  // Names people read for the codes every plugin meets (hazards of CMA's warning signals and
  // the four levels), kept once here rather than in each plugin.
  var HAZARDS = {rainstorm: {zh_CN: '暴雨', en: 'Rainstorm'}, snowstorm: {zh_CN: '暴雪', en: 'Snowstorm'},
                 cold_wave: {zh_CN: '寒潮', en: 'Cold wave'}, gale: {zh_CN: '大风', en: 'Gale'},
                 heat: {zh_CN: '高温', en: 'Heat'}, frost: {zh_CN: '霜冻', en: 'Frost'},
                 fog: {zh_CN: '大雾', en: 'Fog'}, typhoon: {zh_CN: '台风', en: 'Typhoon'}};
  var LEVELS = {blue: {zh_CN: '蓝色', en: 'Blue'}, yellow: {zh_CN: '黄色', en: 'Yellow'},
                orange: {zh_CN: '橙色', en: 'Orange'}, red: {zh_CN: '红色', en: 'Red'}};

  var DisasterConsole = window.DisasterConsole = {
    map: null,
    lang: document.documentElement.getAttribute('lang') === 'en' ? 'en' : 'zh_CN',
    addOverlay: addOverlay,
    addPanel: addPanel,
    addLegend: addLegend,
    fetchJSON: fetchJSON,
    sendJSON: sendJSON,
    escapeHtml: escapeHtml,
    areaNames: areaNames,
    localTime: localTime,
    popup: popup,
    polygonLayer: polygonLayer,
    manyPolygons: manyPolygons,
    t: t,
    viewParams: viewParams,
    reload: reload,
    start: start,
    overlays: overlays,
    panels: panels,
    legends: legends,
    hazards: HAZARDS,
    levels: LEVELS
  };
}());
