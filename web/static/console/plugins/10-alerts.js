/*
 * Active CAP alerts on the map console: one card per message (hazard, level, communities),
 * who has and has not acknowledged (叫应), escalations to backup officers, and the health
 * of the weather feeds (a stale feed is flagged). Information officers acknowledge here.
 * All user-visible text is set through textContent (never HTML).
 */
(function () {
  'use strict';
  var DC = window.DisasterConsole;
  var t = DC.t;

  var HAZARD = {rainstorm: {zh_CN: '暴雨', en: 'Rainstorm'}, snowstorm: {zh_CN: '暴雪', en: 'Snowstorm'},
                cold_wave: {zh_CN: '寒潮', en: 'Cold wave'}, gale: {zh_CN: '大风', en: 'Gale'},
                heat: {zh_CN: '高温', en: 'Heat'}, frost: {zh_CN: '霜冻', en: 'Frost'},
                fog: {zh_CN: '大雾', en: 'Fog'}, typhoon: {zh_CN: '台风', en: 'Typhoon'}};
  var LEVEL = {blue: {zh_CN: '蓝色', en: 'Blue'}, yellow: {zh_CN: '黄色', en: 'Yellow'},
               orange: {zh_CN: '橙色', en: 'Orange'}, red: {zh_CN: '红色', en: 'Red'}};
  var COLOUR = {blue: '#1f6fd1', yellow: '#e3b505', orange: '#f27f0c', red: '#d7191c'};

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  function when(iso) {
    if (!iso) { return ''; }
    return new Date(iso).toLocaleString(DC.lang === 'en' ? 'en-GB' : 'zh-CN',
                                        {timeZone: 'Asia/Shanghai', hour12: false});
  }

  function card(alert, escalated) {
    var box = el('div', null, 'alert-card');
    box.style.borderLeft = '6px solid ' + (COLOUR[alert.level] || '#888');
    box.style.padding = '4px 6px';
    box.style.marginBottom = '6px';
    var title = (HAZARD[alert.hazard] ? t(HAZARD[alert.hazard]) : alert.hazard) +
      (LEVEL[alert.level] ? t(LEVEL[alert.level]) : alert.level) + t({zh_CN: '预警', en: ' warning'});
    box.appendChild(el('strong', title));
    box.appendChild(el('div', alert.headline || ''));
    box.appendChild(el('div', t({zh_CN: '发布：', en: 'Sent: '}) + when(alert.sent) + ' · ' +
                       alert.msg_type + ' · ' + alert.identifier, 'muted'));
    var ack = alert.acknowledgement || {communities: [], acknowledged: 0, pending: 0};
    box.appendChild(el('div', t({zh_CN: '已叫应 ', en: 'Acknowledged '}) + ack.acknowledged + ' / ' +
                       (ack.acknowledged + ack.pending)));
    var missing = ack.communities.filter(function (c) { return !c.acknowledged; });
    if (missing.length) {
      var details = el('details');
      details.appendChild(el('summary', t({zh_CN: '未叫应的村（社区）', en: 'Not yet acknowledged'}) +
                                        ' (' + missing.length + ')'));
      var list = el('ul');
      missing.slice(0, 200).forEach(function (c) {
        var names = c.officers.map(function (o) { return o.name || o.id; }).join('、');
        var item = el('li', c.community + (names ? ' — ' + names : ''));
        if (c.escalated) {
          item.appendChild(el('span', ' ⚠ ' + t({zh_CN: '已升级至备岗信息员', en: 'escalated to backup'})));
        }
        list.appendChild(item);
      });
      details.appendChild(list);
      box.appendChild(details);
    }
    if (escalated) {
      box.appendChild(el('div', t({zh_CN: '升级：', en: 'Escalations: '}) + escalated, 'warning'));
    }
    var button = el('button', t({zh_CN: '确认收到（叫应）', en: 'Acknowledge'}));
    button.type = 'button';
    var result = el('span', '', 'muted');
    button.addEventListener('click', async function () {
      button.disabled = true;
      try {
        var r = await DC.sendJSON('POST', '/api/v1/alerts/' + alert.id + '/ack', {});
        result.textContent = ' ' + t({zh_CN: '已确认 ', en: 'acknowledged for '}) +
          r.acknowledged.length + t({zh_CN: ' 名信息员', en: ' officer(s)'});
      } catch (err) {
        result.textContent = ' ' + (err.body && err.body.error ? err.body.error.message : err.message);
        button.disabled = false;
      }
    });
    box.appendChild(button);
    box.appendChild(result);
    return box;
  }

  DC.addPanel('alerts', {
    title: {zh_CN: '当前预警与叫应', en: 'Active alerts and acknowledgements'},
    refreshSeconds: 20,
    render: async function (element) {
      var results = await Promise.all([
        DC.fetchJSON('/api/v1/alerts?status=active&acks=1'),
        DC.fetchJSON('/api/v1/alerts/escalations'),
        DC.fetchJSON('/api/v1/weather/sources')]);
      var alerts = results[0], escalations = results[1], sources = results[2];
      var byAlert = {};
      escalations.forEach(function (e) { byAlert[e.alert] = (byAlert[e.alert] || 0) + 1; });
      element.textContent = '';
      sources.filter(function (s) { return s.status === 'stale' || s.status === 'error'; })
        .forEach(function (s) {
          element.appendChild(el('div', '⚠ ' + t({zh_CN: '气象数据源异常：', en: 'Weather feed problem: '}) +
                                 s.name + ' (' + s.status + ') ' + (s.last_error || ''), 'warning'));
        });
      if (!alerts.length) {
        element.appendChild(el('div', t({zh_CN: '当前无生效预警', en: 'No active alerts'}), 'muted'));
        return;
      }
      var rank = {red: 4, orange: 3, yellow: 2, blue: 1};
      alerts.sort(function (a, b) { return (rank[b.level] || 0) - (rank[a.level] || 0); });
      alerts.forEach(function (a) { element.appendChild(card(a, byAlert[a.id])); });
    }
  });
})();
