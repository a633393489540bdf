/*
 * Officers and reports on the map console: communities without a primary information
 * officer outlined, the overdue-reports panel (初报 within 2 h, 续报 daily by 09:00) and
 * the roll-up with the suggested response level. All text is set through textContent /
 * DC.popup, never as HTML.
 */
(function () {
  'use strict';
  var DC = window.DisasterConsole;
  var t = DC.t;

  var KIND = {initial: {zh_CN: '初报', en: 'Initial'}, update: {zh_CN: '续报', en: 'Update'},
              final: {zh_CN: '核报', en: 'Final'}};
  // 国家自然灾害救助应急预案 writes the response levels with Roman numerals: Ⅰ级 … Ⅳ级.
  var ROMAN = {I: 'Ⅰ', II: 'Ⅱ', III: 'Ⅲ', IV: 'Ⅳ'};
  var INDICATORS = [
    ['affected_people', {zh_CN: '受灾人口', en: 'Affected people'}],
    ['dead', {zh_CN: '死亡', en: 'Dead'}], ['missing', {zh_CN: '失踪', en: 'Missing'}],
    ['evacuated', {zh_CN: '紧急转移安置', en: 'Evacuated'}],
    ['needing_aid', {zh_CN: '需紧急生活救助', en: 'Needing aid'}],
    ['collapsed_rooms', {zh_CN: '倒塌房屋（间）', en: 'Collapsed rooms'}],
    ['crop_affected_ha', {zh_CN: '农作物受灾（公顷）', en: 'Crops affected (ha)'}],
    ['direct_loss_10k_yuan', {zh_CN: '直接经济损失（万元）', en: 'Direct loss (10k yuan)'}]
  ];

  function el(tag, text, className) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (className) { e.className = className; }
    return e;
  }
  function num(v) { return v === null || v === undefined ? '' : Number(v).toLocaleString(); }
  var localTime = DC.localTime;

  DC.addOverlay('uncovered-communities', {
    title: {zh_CN: '无信息员的社区（村）', en: 'Communities without an officer'},
    refreshSeconds: 300,
    reloadOnMove: true,
    load: async function (map) {
      if (!map.getPane('uncovered')) { map.createPane('uncovered').style.zIndex = 460; }
      var data = await DC.fetchJSON('/api/v1/officers/uncovered?' + DC.viewParams(map));
      var open = function (p, latlng) {
        L.popup().setLatLng(latlng).setContent(DC.popup(p.name, [
          [t({zh_CN: '状态', en: 'Status'}),
           t({zh_CN: '无主岗信息员', en: 'No primary officer'}) +
           (p.without_backup ? t({zh_CN: '，无B岗', en: ', no backup'}) : '')]
        ])).openOn(map);
      };
      if (DC.manyPolygons(data.features.length)) {
        return DC.polygonLayer(data, {
          pane: 'uncovered',
          style: function () { return {fillColor: '#8e24aa', fillOpacity: 0.05}; },
          stroke: {color: '#8e24aa', weight: 3, dashArray: [6, 4]},
          onClick: function (f, latlng) { open(f.properties, latlng); }
        });
      }
      var layer = L.geoJSON(data, {
        pane: 'uncovered',
        style: function () {
          return {color: '#8e24aa', weight: 3, dashArray: '6 4', fill: true, fillOpacity: 0.05};
        }
      });
      layer.on('click', function (e) { open(e.layer.feature.properties, e.latlng); });
      return layer;
    }
  });

  DC.addPanel('overdue-reports', {
    title: {zh_CN: '逾期未报', en: 'Overdue reports'},
    refreshSeconds: 120,
    render: async function (element) {
      var both = await Promise.all([DC.fetchJSON('/api/v1/reports/overdue'),
                                    DC.areaNames().catch(function () { return {}; })]);
      var rows = both[0], areas = both[1];
      element.textContent = '';
      if (!rows.length) {
        element.appendChild(el('p', t({zh_CN: '没有逾期的灾情报告。', en: 'No report is overdue.'}),
                               'muted'));
        return;
      }
      element.appendChild(el('p', t({zh_CN: '逾期 ', en: 'Overdue: '}) + rows.length));
      var table = el('table', null, 'list overdue-reports');
      var head = el('tr');
      [{zh_CN: '社区（村）', en: 'Community'}, {zh_CN: '报告', en: 'Report'},
       {zh_CN: '应报时间', en: 'Due'}].forEach(function (h) {
        head.appendChild(el('th', t(h)));
      });
      table.appendChild(head);
      rows.slice(0, 200).forEach(function (r) {
        var tr = el('tr');
        var township = areas[r.township_code];
        tr.appendChild(el('td', r.name + (township ? '（' + township + '）' : '')));
        tr.appendChild(el('td', KIND[r.kind] ? t(KIND[r.kind]) : r.kind));
        tr.appendChild(el('td', localTime(r.due_at)));
        table.appendChild(tr);
      });
      element.appendChild(table);
      if (rows.length > 200) {
        element.appendChild(el('p', t({zh_CN: '仅列出前200个。', en: 'The first 200 are listed.'}), 'muted'));
      }
    }
  });

  DC.addPanel('report-rollup', {
    title: {zh_CN: '灾情汇总与响应建议', en: 'Reported damage and response level'},
    refreshSeconds: 120,
    render: async function (element) {
      var data = await DC.fetchJSON('/api/v1/reports/rollup');
      element.textContent = '';
      var level = data.response.level;
      element.appendChild(el('p', t({zh_CN: '建议响应等级：', en: 'Suggested response level: '}) +
        (level ? (DC.lang === 'en' ? 'level ' + level : (ROMAN[level] || level) + '级')
          : t({zh_CN: '未达启动条件', en: 'none'})),
        level ? 'response-level level-' + level : 'response-level'));
      // Five columns fit the side bar; every indicator of the totals is one click away.
      var MAIN = ['affected_people', 'dead', 'evacuated', 'direct_loss_10k_yuan'];
      var byKey = {};
      INDICATORS.forEach(function (i) { byKey[i[0]] = i[1]; });
      var table = el('table', null, 'list rollup');
      var head = el('tr');
      head.appendChild(el('th', t({zh_CN: '县区', en: 'County'})));
      MAIN.forEach(function (k) {
        head.appendChild(el('th', k === 'dead' ? t({zh_CN: '死亡/失踪', en: 'Dead/missing'}) : t(byKey[k])));
      });
      table.appendChild(head);
      data.counties.concat([data.totals]).forEach(function (row) {
        var tr = el('tr');
        tr.appendChild(el('td', row.name || t({zh_CN: '合计', en: 'Total'})));
        MAIN.forEach(function (k) {
          tr.appendChild(el('td', k === 'dead' ? num(row.dead || 0) + ' / ' + num(row.missing || 0)
            : num(row[k])));
        });
        table.appendChild(tr);
      });
      element.appendChild(table);
      var details = el('details');
      details.appendChild(el('summary', t({zh_CN: '合计的全部指标', en: 'Every indicator (total)'})));
      var all = el('table', null, 'list');
      INDICATORS.forEach(function (i) {
        var tr = el('tr');
        tr.appendChild(el('th', t(i[1])));
        tr.appendChild(el('td', num(data.totals[i[0]])));
        all.appendChild(tr);
      });
      details.appendChild(all);
      element.appendChild(details);
      var link = el('a', t({zh_CN: '按乡镇导出 CSV', en: 'Export CSV by township'}));
      link.href = '/api/v1/reports/export.csv';
      element.appendChild(link);
    }
  });
})();
