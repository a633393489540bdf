/*
 * Field reports on the map console (report review, as Ushahidi users know it): every report
 * a point (its GPS position, or its community's representative point), and a review panel
 * listing the same reports, filtered by time, township, kind, hazard and review state, with
 * their figures and photos. The duty officer verifies a waiting report or returns it to
 * the officer with a comment. All text is set through textContent / DC.popup, never HTML.
 */
(function () {
  'use strict';
  var DC = window.DisasterConsole;
  var t = DC.t;

  var KIND = {initial: {zh_CN: '初报', en: 'Initial'}, update: {zh_CN: '续报', en: 'Update'},
              final: {zh_CN: '核报', en: 'Final'}};
  var HAZARD = DC.hazards;
  var STATUS = {pending: {zh_CN: '待审核', en: 'Waiting for review'},
                verified: {zh_CN: '已核实', en: 'Verified'},
                returned: {zh_CN: '退回修改', en: 'Returned'}};
  var STATUS_COLOUR = {pending: '#ef6c00', verified: '#2e7d32', returned: '#c62828'};
  var ACTION = {returned: {zh_CN: '退回', en: 'Returned'}, resent: {zh_CN: '修改后重报', en: 'Resent'},
                verified: {zh_CN: '核实', en: 'Verified'}};
  // The core indicators of 《自然灾害情况统计调查制度》 in the order of the form.
  var FIGURES = [
    ['affected_people', {zh_CN: '受灾人口', en: 'Affected people'}, {zh_CN: '人', en: ''}],
    ['dead', {zh_CN: '因灾死亡', en: 'Dead'}, {zh_CN: '人', en: ''}],
    ['missing', {zh_CN: '因灾失踪', en: 'Missing'}, {zh_CN: '人', en: ''}],
    ['evacuated', {zh_CN: '紧急转移安置', en: 'Evacuated'}, {zh_CN: '人', en: ''}],
    ['needing_aid', {zh_CN: '需紧急生活救助', en: 'Needing aid'}, {zh_CN: '人', en: ''}],
    ['collapsed_households', {zh_CN: '倒塌房屋', en: 'Collapsed houses'}, {zh_CN: '户', en: 'households'}],
    ['collapsed_rooms', {zh_CN: '倒塌房屋', en: 'Collapsed houses'}, {zh_CN: '间', en: 'rooms'}],
    ['severely_damaged_households', {zh_CN: '严重损坏房屋', en: 'Severely damaged'}, {zh_CN: '户', en: 'households'}],
    ['severely_damaged_rooms', {zh_CN: '严重损坏房屋', en: 'Severely damaged'}, {zh_CN: '间', en: 'rooms'}],
    ['generally_damaged_households', {zh_CN: '一般损坏房屋', en: 'Generally damaged'}, {zh_CN: '户', en: 'households'}],
    ['generally_damaged_rooms', {zh_CN: '一般损坏房屋', en: 'Generally damaged'}, {zh_CN: '间', en: 'rooms'}],
    ['crop_affected_ha', {zh_CN: '农作物受灾', en: 'Crops affected'}, {zh_CN: '公顷', en: 'ha'}],
    ['crop_damaged_ha', {zh_CN: '农作物成灾', en: 'Crops damaged'}, {zh_CN: '公顷', en: 'ha'}],
    ['crop_lost_ha', {zh_CN: '农作物绝收', en: 'Crops lost'}, {zh_CN: '公顷', en: 'ha'}],
    ['direct_loss_10k_yuan', {zh_CN: '直接经济损失', en: 'Direct loss'}, {zh_CN: '万元', en: '10k yuan'}]
  ];
  var PERIODS = [['', {zh_CN: '全部时间', en: 'Any time'}], ['6', {zh_CN: '最近6小时', en: 'Last 6 h'}],
                 ['24', {zh_CN: '最近24小时', en: 'Last 24 h'}], ['72', {zh_CN: '最近3天', en: 'Last 3 days'}],
                 ['168', {zh_CN: '最近7天', en: 'Last 7 days'}]];

  // The filters the panel shows; the map shows the same reports.
  var filters = {hours: '', township: '', kind: '', hazard: '', status: ''};
  var cache = {url: null, at: 0, promise: null};
  var panelBody = null;

  function el(tag, text, className) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (className) { e.className = className; }
    return e;
  }
  function label(map, value) { return map[value] ? t(map[value]) : value; }
  function localTime(iso) {
    var d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString(DC.lang === 'en' ? 'en-GB' : 'zh-CN',
      {timeZone: 'Asia/Shanghai', hour12: false, year: 'numeric', month: '2-digit',
       day: '2-digit', hour: '2-digit', minute: '2-digit'});
  }
  function num(v) { return Number(v).toLocaleString(DC.lang === 'en' ? 'en-GB' : 'zh-CN'); }

  /** The non-zero figures as "受灾人口 20人" texts; a zero report says so. */
  function figureTexts(figures) {
    var out = [];
    FIGURES.forEach(function (f) {
      var v = figures[f[0]];
      if (v) { out.push(t(f[1]) + ' ' + num(v) + t(f[2])); }
    });
    return out;
  }

  function url() {
    var q = [];
    if (filters.hours) {
      // To the minute, so that the map and the panel ask the same URL (one request).
      var now = Math.floor(Date.now() / 60000) * 60000;
      q.push('since=' + encodeURIComponent(
        new Date(now - Number(filters.hours) * 3600e3).toISOString()));
    }
    ['township', 'kind', 'hazard', 'status'].forEach(function (k) {
      if (filters[k]) { q.push(k + '=' + encodeURIComponent(filters[k])); }
    });
    return '/api/v1/reports/review' + (q.length ? '?' + q.join('&') : '');
  }

  /** One request serves the map and the panel when both refresh together. */
  function fetchReports(force) {
    var u = url();
    if (force || cache.url !== u || Date.now() - cache.at > 5000) {
      cache = {url: u, at: Date.now(), promise: DC.fetchJSON(u)};
      cache.promise.catch(function () { cache.url = null; });
    }
    return cache.promise;
  }

  function refreshAll() {
    cache.url = null;
    if (panelBody) { renderPanel(panelBody); }
    DC.reload('field-reports');
  }

  function title(r) {
    return r.community_name + '（' + r.township_name + '）';
  }

  // ---- map ------------------------------------------------------------------------------
  var RANK = {pending: 3, returned: 2, verified: 1};

  function focusCard(id) {
    var card = document.getElementById('report-card-' + id);
    if (!card) { return; }
    card.scrollIntoView({block: 'nearest'});
    card.classList.add('highlight');
    window.setTimeout(function () { card.classList.remove('highlight'); }, 2000);
  }

  function popupFor(reports) {
    var root = el('div', null, 'report-popup');
    reports.forEach(function (r) {
      var rows = [[t({zh_CN: '类型', en: 'Kind'}), label(KIND, r.kind) + ' · ' + label(HAZARD, r.hazard)],
                  [t({zh_CN: '状态', en: 'Status'}), label(STATUS, r.review_status)],
                  [t({zh_CN: '发生时间', en: 'Occurred'}), localTime(r.occurred_at)]];
      var figs = figureTexts(r.figures);
      rows.push([t({zh_CN: '灾情', en: 'Figures'}),
                 figs.length ? figs.join('，') : t({zh_CN: '零报告（无灾情）', en: 'zero report'})]);
      var box = DC.popup(title(r), rows);
      var b = el('button', t({zh_CN: '在审核列表中查看', en: 'Show in the review list'}), 'link-button');
      b.type = 'button';
      b.addEventListener('click', function () { focusCard(r.id); });
      box.appendChild(b);
      root.appendChild(box);
    });
    return root;
  }

  DC.addOverlay('field-reports', {
    title: {zh_CN: '灾情报告（信息员上报）', en: 'Field reports'},
    refreshSeconds: 60,
    load: async function (map) {
      if (!map.getPane('field-reports')) { map.createPane('field-reports').style.zIndex = 640; }
      var data = await fetchReports();
      // Reports at the same point (a community's point) share one marker: no marker hides
      // another, and its pop-up lists them all.
      var groups = {};
      data.reports.forEach(function (r) {
        if (!r.point) { return; }
        var key = r.point[0].toFixed(5) + ',' + r.point[1].toFixed(5);
        (groups[key] = groups[key] || []).push(r);
      });
      var layer = L.featureGroup();
      Object.keys(groups).forEach(function (key) {
        var list = groups[key];
        var worst = list.reduce(function (a, r) {
          return RANK[r.review_status] > RANK[a] ? r.review_status : a;
        }, 'verified');
        var marker = L.circleMarker([list[0].point[1], list[0].point[0]], {
          pane: 'field-reports', radius: 7 + Math.min(6, list.length - 1), weight: 2,
          color: '#fff', fillColor: STATUS_COLOUR[worst], fillOpacity: 0.95,
          className: 'report-point report-' + worst + list.map(function (r) {
            return ' report-at-' + r.id;
          }).join('')
        });
        marker.bindPopup(popupFor(list), {maxHeight: 320});
        marker.reportIds = list.map(function (r) { return r.id; });
        layer.addLayer(marker);
      });
      return layer;
    }
  });

  // ---- review panel -----------------------------------------------------------------------
  function select(name, options, current) {
    var s = el('select');
    s.name = name;
    s.setAttribute('aria-label', t(options.label));
    options.items.forEach(function (o) {
      var opt = el('option', t(o[1]));
      opt.value = o[0];
      if (o[0] === current) { opt.selected = true; }
      s.appendChild(opt);
    });
    s.addEventListener('change', function () { filters[name] = s.value; refreshAll(); });
    return s;
  }

  function pairs(map, allLabel) {
    return [['', allLabel]].concat(Object.keys(map).map(function (k) { return [k, map[k]]; }));
  }

  function filterBar(townships) {
    var bar = el('div', null, 'report-filters');
    bar.appendChild(select('hours', {label: {zh_CN: '时间', en: 'Time'}, items: PERIODS}, filters.hours));
    var towns = [['', {zh_CN: '全部乡镇', en: 'All townships'}]].concat(
      townships.map(function (tw) { return [tw.code, {zh_CN: tw.name, en: tw.name}]; }));
    bar.appendChild(select('township', {label: {zh_CN: '乡镇', en: 'Township'}, items: towns},
                           filters.township));
    bar.appendChild(select('kind', {label: {zh_CN: '报告类型', en: 'Kind'},
      items: pairs(KIND, {zh_CN: '全部类型', en: 'All kinds'})}, filters.kind));
    bar.appendChild(select('hazard', {label: {zh_CN: '灾种', en: 'Hazard'},
      items: pairs(HAZARD, {zh_CN: '全部灾种', en: 'All hazards'})}, filters.hazard));
    bar.appendChild(select('status', {label: {zh_CN: '审核状态', en: 'Review state'},
      items: pairs(STATUS, {zh_CN: '全部状态', en: 'Any state'})}, filters.status));
    return bar;
  }

  async function decide(r, decision, comment, card) {
    var msgEl = card.querySelector('.review-message');
    try {
      await DC.sendJSON('POST', '/api/v1/reports/' + r.id + '/review',
                        {decision: decision, comment: comment || ''});
      refreshAll();
    } catch (err) {
      // The server's message is already in the page's language.
      msgEl.textContent = err.body && err.body.error ? err.body.error.message : err.message;
      var fields = err.body && err.body.error ? err.body.error.fields || {} : {};
      if (fields.comment) { msgEl.textContent = fields.comment.join('；'); }
    }
  }

  function reviewControls(r, card) {
    var box = el('div', null, 'review-actions');
    var msgEl = el('p', null, 'review-message');
    msgEl.setAttribute('role', 'alert');
    if (r.review_status !== 'pending') { return box; }
    var verify = el('button', t({zh_CN: '核实', en: 'Verify'}), 'verify');
    verify.type = 'button';
    verify.addEventListener('click', function () { verify.disabled = true; decide(r, 'verified', '', card); });
    var back = el('button', t({zh_CN: '退回修改', en: 'Return'}), 'return secondary');
    back.type = 'button';
    var form = el('div', null, 'return-form');
    form.hidden = true;
    var area = el('textarea');
    area.name = 'comment';
    area.rows = 2;
    area.maxLength = 2000;
    area.placeholder = t({zh_CN: '退回意见：请写明需要修改的内容', en: 'What should the officer correct?'});
    area.setAttribute('aria-label', t({zh_CN: '退回意见', en: 'Comment'}));
    var send = el('button', t({zh_CN: '确认退回', en: 'Return to the officer'}), 'confirm-return');
    send.type = 'button';
    send.addEventListener('click', function () { decide(r, 'returned', area.value.trim(), card); });
    back.addEventListener('click', function () { form.hidden = !form.hidden; if (!form.hidden) { area.focus(); } });
    form.appendChild(area);
    form.appendChild(send);
    box.appendChild(verify);
    box.appendChild(back);
    box.appendChild(form);
    box.appendChild(msgEl);
    return box;
  }

  function card(r) {
    var li = el('li', null, 'report-card status-' + r.review_status);
    li.id = 'report-card-' + r.id;
    li.dataset.report = String(r.id);
    var head = el('div', null, 'report-head');
    var name = el('button', title(r), 'report-title link-button');
    name.type = 'button';
    name.title = t({zh_CN: '在地图上定位', en: 'Show on the map'});
    name.addEventListener('click', function () {
      if (r.point && DC.map) {
        DC.map.setView([r.point[1], r.point[0]], Math.max(DC.map.getZoom(), 14));
      }
    });
    head.appendChild(name);
    head.appendChild(el('span', label(STATUS, r.review_status), 'review-badge status-' + r.review_status));
    li.appendChild(head);
    li.appendChild(el('p', label(KIND, r.kind) + ' · ' + label(HAZARD, r.hazard) + ' · ' +
      t({zh_CN: '发生 ', en: 'occurred '}) + localTime(r.occurred_at), 'report-meta'));
    li.appendChild(el('p', t({zh_CN: '报送 ', en: 'filed '}) + localTime(r.submitted_at) +
      (r.submitted_by ? ' · ' + r.submitted_by : '') + ' · ' + r.event_name, 'report-meta muted'));
    var figs = figureTexts(r.figures);
    var list = el('ul', null, 'report-figures');
    if (!figs.length) { list.appendChild(el('li', t({zh_CN: '零报告（无灾情）', en: 'Zero report'}))); }
    figs.forEach(function (f) { list.appendChild(el('li', f)); });
    li.appendChild(list);
    if (r.notes) { li.appendChild(el('p', t({zh_CN: '备注：', en: 'Notes: '}) + r.notes, 'report-notes')); }
    if (r.photos.length) {
      var photos = el('div', null, 'report-photos');
      r.photos.forEach(function (id, i) {
        var a = el('a');
        a.href = '/api/v1/reports/photos/' + id;
        a.target = '_blank';
        a.rel = 'noopener';
        var img = el('img');
        img.src = '/api/v1/reports/photos/' + id;
        img.alt = t({zh_CN: '现场照片 ', en: 'Photo '}) + (i + 1);
        img.loading = 'lazy';
        a.appendChild(img);
        photos.appendChild(a);
      });
      li.appendChild(photos);
    }
    if (r.history.length) {
      var hist = el('ul', null, 'report-history');
      r.history.forEach(function (h) {
        hist.appendChild(el('li', label(ACTION, h.action) + ' · ' + h.actor + ' · ' + localTime(h.at) +
          (h.comment ? '：' + h.comment : '')));
      });
      li.appendChild(hist);
    }
    li.appendChild(reviewControls(r, li));
    return li;
  }

  async function renderPanel(element) {
    var data = await fetchReports();
    element.textContent = '';
    var counts = el('p', null, 'review-counts');
    ['pending', 'returned', 'verified'].forEach(function (s) {
      var c = el('span', label(STATUS, s) + ' ' + (data.counts[s] || 0), 'review-count status-' + s);
      c.dataset.status = s;
      counts.appendChild(c);
    });
    element.appendChild(counts);
    element.appendChild(filterBar(data.townships));
    element.appendChild(el('p', t({zh_CN: '符合条件的报告 ', en: 'Matching reports: '}) + data.reports.length,
                           'muted report-total'));
    var list = el('ul', null, 'report-list');
    data.reports.forEach(function (r) { list.appendChild(card(r)); });
    if (!data.reports.length) {
      list.appendChild(el('li', t({zh_CN: '没有符合条件的灾情报告。', en: 'No report matches.'}), 'muted'));
    }
    element.appendChild(list);
  }

  // Styles of this plugin only (the console's stylesheet is shared by every plugin).
  var style = document.createElement('style');
  style.textContent = [
    '.report-filters{display:grid;grid-template-columns:1fr 1fr;gap:4px;margin:.3em 0}',
    '.report-filters select{width:100%;min-width:0}',
    '.review-counts{display:flex;gap:6px;flex-wrap:wrap;margin:.2em 0}',
    '.review-count{padding:1px 6px;border-radius:3px;color:#fff;font-size:.9em}',
    '.review-count.status-pending,.review-badge.status-pending{background:#ef6c00}',
    '.review-count.status-verified,.review-badge.status-verified{background:#2e7d32}',
    '.review-count.status-returned,.review-badge.status-returned{background:#c62828}',
    '.report-list{list-style:none;padding:0;margin:0}',
    '.report-card{border:1px solid #d0d4d9;border-left:4px solid #ef6c00;padding:.4em .5em;margin:.4em 0;font-size:.9em}',
    '.report-card.status-verified{border-left-color:#2e7d32}.report-card.status-returned{border-left-color:#c62828}',
    '.report-card.highlight{background:#fff8e1}',
    '.report-head{display:flex;justify-content:space-between;gap:4px;align-items:baseline}',
    '.review-badge{padding:0 5px;border-radius:3px;color:#fff;white-space:nowrap;font-size:.85em}',
    '.link-button{background:none;border:0;padding:0;color:#0b57d0;cursor:pointer;text-align:left;font:inherit}',
    '.report-title{font-weight:bold}',
    '.report-meta{margin:.15em 0}',
    '.report-figures{margin:.2em 0;padding-left:1.2em}',
    '.report-photos img{width:64px;height:64px;object-fit:cover;margin:2px;border:1px solid #ccc}',
    '.report-history{margin:.2em 0;padding-left:1.2em;color:#555}',
    '.review-actions button{margin:.2em .3em .2em 0}',
    '.return-form textarea{width:100%;box-sizing:border-box}',
    '.review-message{color:#c62828;margin:.2em 0}'
  ].join('\n');
  document.head.appendChild(style);

  DC.addPanel('report-review', {
    title: {zh_CN: '灾情报告审核', en: 'Report review'},
    refreshSeconds: 60,
    render: function (element) {
      panelBody = element;
      // The periodic refresh must not wipe a return comment being written.
      var open = element.querySelector('.return-form:not([hidden]) textarea');
      if (open && open.value) { return Promise.resolve(); }
      return renderPanel(element);
    }
  });
})();
