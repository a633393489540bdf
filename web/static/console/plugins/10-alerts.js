/*
 * Active CAP alerts on the map console: one card per message (hazard, level, communities),
 * who acknowledged (叫应) — officer, time (Asia/Shanghai) and channel — and which villages
 * have not yet (village and township names), escalations to backup officers, and the health
 * of the weather feeds. A duty officer records an acknowledgement taken by phone for one of
 * the officers covering the alert's communities; an information officer acknowledges here.
 * The lists a person opened stay open across the periodic refresh, and the panel is not
 * redrawn under a form being filled in. All text is set through textContent (never HTML).
 */
(function () {
  'use strict';
  var DC = window.DisasterConsole;
  var t = DC.t;

  var HAZARD = DC.hazards;
  var LEVEL = DC.levels;
  var MSG_TYPE = {Alert: {zh_CN: '发布', en: 'issued'}, Update: {zh_CN: '更新', en: 'updated'},
                  Cancel: {zh_CN: '解除', en: 'lifted'}};
  var CHANNEL = {link: {zh_CN: '短信/邮件链接', en: 'SMS/e-mail link'}, page: {zh_CN: '网页', en: 'web page'},
                 api: {zh_CN: 'API', en: 'API'}, phone: {zh_CN: '电话', en: 'phone'}};
  var SOURCE_STATUS = {stale: {zh_CN: '数据过期', en: 'stale'}, error: {zh_CN: '出错', en: 'error'}};
  var ROLE = {primary: {zh_CN: '主岗', en: 'primary'}, backup: {zh_CN: '备岗', en: 'backup'}};
  var COLOUR = {blue: '#1f6fd1', yellow: '#e3b505', orange: '#f27f0c', red: '#d7191c'};

  // What the person opened or chose, by warning (hazard, county, level) rather than by
  // message: an hourly Update is a new message of the same warning and must not close it.
  var openLists = {};
  var chosenOfficer = {};
  var officersByAlert = {};   // alert id -> officers covering it, or 'denied' (not a duty officer)
  var busy = false;
  var panelElement = null;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  function name(map, value) { return map[value] ? t(map[value]) : value; }

  function when(iso) {
    if (!iso) { return ''; }
    return new Date(iso).toLocaleString(DC.lang === 'en' ? 'en-GB' : 'zh-CN',
                                        {timeZone: 'Asia/Shanghai', hour12: false,
                                         month: 'numeric', day: 'numeric',
                                         hour: '2-digit', minute: '2-digit'});
  }

  function place(c) {
    var village = c.name || c.community;
    return c.township ? village + t({zh_CN: '（', en: ' ('}) + c.township + t({zh_CN: '）', en: ')'})
                      : village;
  }

  function warningKey(alert) { return alert.hazard + '|' + alert.county + '|' + alert.level; }

  function errorText(err) {
    var error = err.body && err.body.error;
    if (!error) { return t({zh_CN: '操作失败，请稍后再试', en: 'That did not work; try again'}); }
    var parts = [error.message];
    Object.keys(error.fields || {}).forEach(function (f) {
      if (f === 'officer_id') { parts.push(t({zh_CN: '信息员：', en: 'Officer: '}) + error.fields[f].join('；')); }
    });
    return parts.join(' ');
  }

  function list(alert, kind, title, rows, render) {
    var key = warningKey(alert) + '|' + kind;
    var details = el('details', null, 'ack-list ack-' + kind);
    details.open = !!openLists[key];
    details.addEventListener('toggle', function () { openLists[key] = details.open; });
    details.appendChild(el('summary', title + ' (' + rows.length + ')'));
    var ul = el('ul');
    rows.slice(0, 300).forEach(function (row) { ul.appendChild(render(row)); });
    if (rows.length > 300) { ul.appendChild(el('li', '…', 'muted')); }
    details.appendChild(ul);
    return details;
  }

  function ackedItem(c) {
    var by = (c.acknowledged_by || []).map(function (b) {
      return (b.officer || '') + ' · ' + when(b.at) + ' · ' + name(CHANNEL, b.via);
    }).join('；');
    return el('li', place(c) + ' — ' + by);
  }

  function pendingItem(c) {
    var names = c.officers.map(function (o) { return o.name || ''; }).filter(Boolean).join('、');
    var item = el('li', place(c) + (names ? ' — ' + names : ''));
    if (c.escalated) {
      item.appendChild(el('span', ' ⚠ ' + t({zh_CN: '已升级至备岗信息员', en: 'escalated to backup'}),
                          'warning'));
    }
    return item;
  }

  function officerLabel(o) {
    var covered = o.communities.map(function (c) {
      return name(ROLE, c.role) + ' ' + place(c);
    });
    var shown = covered.slice(0, 2).join('、');
    if (covered.length > 2) {
      shown += t({zh_CN: ' 等 ', en: ' and '}) + covered.length + t({zh_CN: ' 个村（社区）', en: ' communities'});
    }
    return o.name + (shown ? t({zh_CN: '（', en: ' ('}) + shown + t({zh_CN: '）', en: ')'}) : '');
  }

  async function officersFor(alert) {
    if (officersByAlert[alert.id] === undefined) {
      try {
        officersByAlert[alert.id] = await DC.fetchJSON('/api/v1/alerts/' + alert.id + '/officers');
      } catch (err) {
        if (err.status !== 403) { throw err; }
        officersByAlert[alert.id] = 'denied';
      }
    }
    return officersByAlert[alert.id];
  }

  /** Duty officer: record a 叫应 taken by phone for an officer covering the alert. */
  function phoneForm(alert, officers) {
    var form = el('form', null, 'phone-ack');
    var key = warningKey(alert);
    var label = el('label', t({zh_CN: '记录电话叫应：', en: 'Record a phoned acknowledgement: '}));
    var select = el('select');
    select.name = 'officer_id';
    select.setAttribute('aria-label', t({zh_CN: '信息员', en: 'Officer'}));
    var none = el('option', t({zh_CN: '— 选择信息员 —', en: '— choose the officer —'}));
    none.value = '';
    select.appendChild(none);
    officers.forEach(function (o) {
      var option = el('option', officerLabel(o));
      option.value = String(o.id);
      select.appendChild(option);
    });
    select.value = chosenOfficer[key] || '';
    select.addEventListener('change', function () { chosenOfficer[key] = select.value; });
    label.appendChild(select);
    form.appendChild(label);
    form.appendChild(el('span', ' ' + t({zh_CN: '渠道：电话', en: 'Channel: phone'}) + ' ', 'muted'));
    var button = el('button', t({zh_CN: '记录叫应', en: 'Record'}));
    button.type = 'submit';
    form.appendChild(button);
    var result = el('span', '', 'ack-result');
    result.setAttribute('role', 'status');
    form.appendChild(result);
    form.addEventListener('submit', async function (event) {
      event.preventDefault();
      if (!select.value) {
        result.textContent = ' ' + t({zh_CN: '请先选择信息员', en: 'Choose the officer first'});
        return;
      }
      button.disabled = true;
      busy = true;
      try {
        var r = await DC.sendJSON('POST', '/api/v1/alerts/' + alert.id + '/ack',
                                  {officer_id: parseInt(select.value, 10)});
        chosenOfficer[key] = '';
        openLists[key + '|acked'] = true;
        result.textContent = ' ' + t({zh_CN: '已记录：', en: 'Recorded: '}) + r.officers.join('、') +
          ' · ' + name(CHANNEL, r.via);
        busy = false;
        if (panelElement) { await render(panelElement); }
      } catch (err) {
        result.textContent = ' ' + errorText(err);
        button.disabled = false;
        busy = false;
      }
    });
    return form;
  }

  /** Information officer: acknowledge for one's own communities. */
  function ackButton(alert) {
    var box = el('div');
    var button = el('button', t({zh_CN: '确认收到（叫应）', en: 'Acknowledge'}));
    button.type = 'button';
    var result = el('span', '', 'ack-result');
    button.addEventListener('click', async function () {
      button.disabled = true;
      try {
        var r = await DC.sendJSON('POST', '/api/v1/alerts/' + alert.id + '/ack', {});
        result.textContent = ' ' + t({zh_CN: '已确认 ', en: 'acknowledged for '}) +
          r.acknowledged.length + t({zh_CN: ' 名信息员', en: ' officer(s)'});
      } catch (err) {
        result.textContent = ' ' + errorText(err);
        button.disabled = false;
      }
    });
    box.appendChild(button);
    box.appendChild(result);
    return box;
  }

  async function card(alert) {
    var box = el('div', null, 'alert-card');
    box.dataset.alert = String(alert.id);
    box.style.borderLeft = '6px solid ' + (COLOUR[alert.level] || '#888');
    box.style.padding = '4px 6px';
    box.style.marginBottom = '6px';
    box.appendChild(el('strong', name(HAZARD, alert.hazard) + name(LEVEL, alert.level) +
                                 t({zh_CN: '预警', en: ' warning'})));
    box.appendChild(el('div', alert.headline || ''));
    var sent = el('div', name(MSG_TYPE, alert.msg_type) + t({zh_CN: '于 ', en: ' at '}) + when(alert.sent),
                  'muted');
    sent.title = alert.identifier;
    box.appendChild(sent);
    var ack = alert.acknowledgement || {communities: [], acknowledged: 0, pending: 0};
    box.appendChild(el('div', t({zh_CN: '已叫应 ', en: 'Acknowledged '}) + ack.acknowledged + ' / ' +
                       (ack.acknowledged + ack.pending), 'ack-count'));
    var done = ack.communities.filter(function (c) { return c.acknowledged; });
    var missing = ack.communities.filter(function (c) { return !c.acknowledged; });
    // Escalations of this warning, whichever hourly message raised them.
    var escalated = ack.communities.filter(function (c) { return c.escalated; }).length;
    if (done.length) {
      box.appendChild(list(alert, 'acked', t({zh_CN: '已叫应的村（社区）', en: 'Acknowledged'}),
                           done, ackedItem));
    }
    if (missing.length) {
      box.appendChild(list(alert, 'pending', t({zh_CN: '未叫应的村（社区）', en: 'Not yet acknowledged'}),
                           missing, pendingItem));
    }
    if (escalated) {
      box.appendChild(el('div', t({zh_CN: '已升级：', en: 'Escalations: '}) + escalated +
                                t({zh_CN: ' 个村（社区）', en: ' communities'}), 'warning'));
    }
    var officers = await officersFor(alert);
    if (officers === 'denied') {
      box.appendChild(ackButton(alert));
    } else if (missing.length) {
      box.appendChild(phoneForm(alert, officers));
    }
    return box;
  }

  function interacting(element) {
    var active = document.activeElement;
    return busy || (active && element.contains(active) && active.tagName === 'SELECT');
  }

  async function render(element) {
    panelElement = element;
    if (interacting(element)) { return; }  // never redraw under the person's hand
    var results = await Promise.all([
      DC.fetchJSON('/api/v1/alerts?status=active&acks=1'),
      DC.fetchJSON('/api/v1/weather/sources')]);
    var alerts = results[0], sources = results[1];
    var rank = {red: 4, orange: 3, yellow: 2, blue: 1};
    alerts.sort(function (a, b) { return (rank[b.level] || 0) - (rank[a.level] || 0); });
    var cards = [];
    for (var i = 0; i < alerts.length; i++) { cards.push(await card(alerts[i])); }
    if (interacting(element)) { return; }
    var live = {};
    alerts.forEach(function (a) { live[a.id] = true; });
    Object.keys(officersByAlert).forEach(function (id) { if (!live[id]) { delete officersByAlert[id]; } });
    element.textContent = '';
    sources.filter(function (s) { return s.status === 'stale' || s.status === 'error'; })
      .forEach(function (s) {
        element.appendChild(el('div', '⚠ ' + t({zh_CN: '气象数据源异常：', en: 'Weather feed problem: '}) +
                               s.name + '（' + name(SOURCE_STATUS, s.status) + '）', 'warning'));
      });
    if (!alerts.length) {
      element.appendChild(el('div', t({zh_CN: '当前无生效预警', en: 'No active alerts'}), 'muted'));
      return;
    }
    cards.forEach(function (c) { element.appendChild(c); });
  }

  DC.addPanel('alerts', {
    title: {zh_CN: '当前预警与叫应', en: 'Active alerts and acknowledgements'},
    refreshSeconds: 20,
    render: render
  });
})();
