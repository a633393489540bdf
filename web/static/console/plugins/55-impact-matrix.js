/*
 * Legend of impact-based warnings: for each hazard switched to a likelihood × impact matrix
 * (WMO MHIBFWS, /api/v1/warnings/impact-matrices), the matrix as a small coloured table
 * (rows: impact, columns: likelihood). Hidden while every hazard uses the threshold rules.
 */
(function () {
  'use strict';
  var DC = window.DisasterConsole;
  var t = DC.t;

  var LEVEL_COLOURS = {blue: '#1e6fd9', yellow: '#f2c200', orange: '#f27f0c', red: '#d7191c'};
  var HAZARDS = DC.hazards;
  var LIKELIHOODS = {
    unlikely: {zh_CN: '不太可能', en: 'Unlikely'}, possible: {zh_CN: '可能', en: 'Possible'},
    likely: {zh_CN: '很可能', en: 'Likely'}, very_likely: {zh_CN: '极可能', en: 'Very likely'}
  };
  var IMPACTS = {
    low: {zh_CN: '低影响', en: 'Low impact'}, medium: {zh_CN: '中影响', en: 'Medium impact'},
    high: {zh_CN: '高影响', en: 'High impact'}, severe: {zh_CN: '严重影响', en: 'Severe impact'}
  };
  var LEVELS = {
    blue: {zh_CN: '蓝', en: 'Blue'}, yellow: {zh_CN: '黄', en: 'Yellow'},
    orange: {zh_CN: '橙', en: 'Orange'}, red: {zh_CN: '红', en: 'Red'}
  };

  function cell(tag, text) {
    var el = document.createElement(tag);
    el.textContent = text;
    if (tag !== 'div') { el.style.padding = '2px 5px'; }
    return el;
  }

  function table(m) {
    var tbl = document.createElement('table');
    tbl.className = 'impact-matrix';
    tbl.style.borderCollapse = 'collapse';
    tbl.style.fontSize = '0.8em';
    var head = document.createElement('tr');
    head.appendChild(cell('th', t({zh_CN: '影响＼可能性', en: 'Impact \\ likelihood'})));
    m.likelihoods.forEach(function (lk) { head.appendChild(cell('th', t(LIKELIHOODS[lk]))); });
    tbl.appendChild(head);
    // Highest impact on top, as the WMO matrix is drawn.
    m.impacts.slice().reverse().forEach(function (imp) {
      var tr = document.createElement('tr');
      tr.appendChild(cell('th', t(IMPACTS[imp])));
      m.matrix[imp].forEach(function (level) {
        var td = cell('td', level ? t(LEVELS[level]) : '—');
        td.style.textAlign = 'center';
        td.style.border = '1px solid #ccc';
        if (level) {
          td.style.background = LEVEL_COLOURS[level];
          td.style.color = level === 'yellow' ? '#222' : '#fff';  // readable on each colour
        }
        tr.appendChild(td);
      });
      tbl.appendChild(tr);
    });
    return tbl;
  }

  DC.addPanel('impact-matrix', {
    title: {zh_CN: '影响矩阵图例', en: 'Impact matrix legend'},
    refreshSeconds: 300,
    render: async function (element) {
      var data = await DC.fetchJSON('/api/v1/warnings/impact-matrices');
      var used = data.filter(function (m) { return m.enabled; });
      element.textContent = '';
      var section = element.parentNode;
      if (section) { section.style.display = used.length ? '' : 'none'; }
      used.forEach(function (m) {
        element.appendChild(cell('div', t(HAZARDS[m.hazard] || {zh_CN: m.hazard, en: m.hazard}) +
                                 t({zh_CN: '：可能性 × 影响', en: ': likelihood × impact'})));
        element.appendChild(table(m));
      });
    }
  });
}());
