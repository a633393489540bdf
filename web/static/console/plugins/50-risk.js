/*
 * Risk and damage assessment on the map console: the community risk layer (circles sized by
 * population, coloured by risk class), a ranked list of the highest-risk communities with
 * every component, and a damage panel (modelled beside reported, silent communities).
 * Data: /api/v1/risk.geojson, /api/v1/risk, /api/v1/assessment. Text is escaped throughout.
 */
(function () {
  'use strict';
  var DC = window.DisasterConsole;
  var t = DC.t;

  var CLASS_COLOURS = {very_low: '#1a9850', low: '#91cf60', medium: '#fee08b', high: '#fc8d59',
                       very_high: '#d73027'};
  var CLASS_NAMES = {
    very_low: {zh_CN: '很低', en: 'Very low'}, low: {zh_CN: '低', en: 'Low'},
    medium: {zh_CN: '中', en: 'Medium'}, high: {zh_CN: '高', en: 'High'},
    very_high: {zh_CN: '很高', en: 'Very high'}
  };
  var PART_NAMES = {
    hazard: {zh_CN: '致灾危险性', en: 'Hazard'}, exposure: {zh_CN: '暴露度', en: 'Exposure'},
    vulnerability: {zh_CN: '脆弱性', en: 'Vulnerability'},
    coping: {zh_CN: '应对能力', en: 'Coping capacity'},
    flood_prone: {zh_CN: '洪涝易发区', en: 'Flood-prone'}, waterlogging: {zh_CN: '内涝区', en: 'Waterlogging'},
    geohazard: {zh_CN: '地质灾害', en: 'Geohazard'}, low_lying: {zh_CN: '低洼地', en: 'Low-lying'},
    history: {zh_CN: '历史预警', en: 'Past warnings'}, population: {zh_CN: '人口', en: 'Population'},
    households: {zh_CN: '户数', en: 'Households'}, elderly: {zh_CN: '老年人', en: 'Elderly'},
    children: {zh_CN: '儿童', en: 'Children'}, disabled: {zh_CN: '残疾人', en: 'Disabled'},
    shelter: {zh_CN: '避难场所', en: 'Shelter places'}, officers: {zh_CN: '信息员', en: 'Officers'},
    stock: {zh_CN: '救灾物资', en: 'Relief stock'}
  };

  function name(table, key) { return table[key] ? t(table[key]) : key; }
  function fmt(v) { return v === null || v === undefined ? '' : Number(v).toLocaleString(); }

  DC.addOverlay('risk', {
    title: {zh_CN: '综合风险指数', en: 'Community risk index'},
    refreshSeconds: 0,
    visible: false,
    load: async function (map) {
      if (!map.getPane('risk')) { map.createPane('risk').style.zIndex = 430; }
      var data = await DC.fetchJSON('/api/v1/risk.geojson');
      return L.geoJSON(data, {
        pane: 'risk',
        pointToLayer: function (f, latlng) {
          var pr = f.properties;
          var radius = 3 + Math.min(9, Math.sqrt((pr.population || 0) / 300));
          // Rings, not discs: the community's warning colour stays visible inside them.
          var colour = CLASS_COLOURS[pr.risk_class] || '#999';
          return L.circleMarker(latlng, {pane: 'risk', radius: radius, weight: 2, color: colour,
                                         opacity: 0.95, fillColor: colour, fillOpacity: 0.08});
        },
        onEachFeature: function (f, layer) {
          var pr = f.properties;
          layer.bindPopup(function () {
            return DC.popup(pr.name, [
              [t({zh_CN: '排名', en: 'Rank'}), pr.rank],
              [t({zh_CN: '风险指数', en: 'Risk index'}), pr.risk],
              [t({zh_CN: '风险等级', en: 'Risk class'}), name(CLASS_NAMES, pr.risk_class)],
              [name(PART_NAMES, 'hazard'), pr.hazard],
              [name(PART_NAMES, 'exposure'), pr.exposure],
              [name(PART_NAMES, 'vulnerability'), pr.vulnerability],
              [name(PART_NAMES, 'coping'), pr.coping],
              [t({zh_CN: '人口', en: 'Population'}), fmt(pr.population)]
            ]);
          });
        }
      });
    }
  });

  DC.addPanel('risk-ranking', {
    title: {zh_CN: '风险排名（前20）', en: 'Highest-risk communities'},
    refreshSeconds: 0,
    render: async function (element) {
      var doc = await DC.fetchJSON('/api/v1/risk?limit=20');
      element.textContent = '';
      var table = document.createElement('table');
      table.className = 'popup-table risk-ranking';
      var head = document.createElement('tr');
      [['#', '#'], ['社区（村）', 'Community'], ['指数', 'Risk'], ['危险', 'Hazard'],
       ['暴露', 'Exposure'], ['脆弱', 'Vulnerability'], ['应对', 'Coping']].forEach(function (text, i) {
        var th = document.createElement('th');
        th.textContent = t({zh_CN: text[0], en: DC.lang === 'en' && i >= 3 ? text[1].charAt(0) : text[1]});
        if (i >= 3) { th.title = t({zh_CN: text[0], en: text[1]}); }
        th.className = i === 1 ? 'name' : 'num';
        head.appendChild(th);
      });
      table.appendChild(head);
      doc.communities.forEach(function (row) {
        var tr = document.createElement('tr');
        var parts = [];
        Object.keys(row.components).forEach(function (group) {
          var items = Object.keys(row.components[group]).map(function (k) {
            return name(PART_NAMES, k) + ' ' + row.components[group][k];
          });
          parts.push(name(PART_NAMES, group) + ': ' + items.join(', '));
        });
        tr.title = parts.join('\n');  // every component, on hover
        [row.rank, row.name, row.risk, row.hazard, row.exposure, row.vulnerability,
         row.coping].forEach(function (value, i) {
          var td = document.createElement('td');
          var text = value === null || value === undefined ? '' : String(value);
          if (i >= 2 && text !== '') { text = Number(value).toFixed(2); }
          td.textContent = text;
          if (i === 2) { td.style.background = CLASS_COLOURS[row.risk_class] || ''; }
          tr.appendChild(td);
        });
        tr.style.cursor = 'pointer';
        tr.addEventListener('click', function () {
          if (DC.map && row.lat !== null && row.lon !== null) { DC.map.setView([row.lat, row.lon], 13); }
        });
        table.appendChild(tr);
      });
      element.appendChild(table);
      var link = document.createElement('a');
      link.href = '/risk';
      link.textContent = t({zh_CN: '完整风险排名', en: 'Full risk ranking'});
      element.appendChild(link);
    }
  });

  DC.addPanel('damage', {
    title: {zh_CN: '灾情评估（模型/上报）', en: 'Damage: modelled / reported'},
    refreshSeconds: 300,
    render: async function (element) {
      var doc = await DC.fetchJSON('/api/v1/assessment?only_affected=1');
      element.textContent = '';
      var m = doc.totals.modelled;
      var r = doc.totals.reported;
      var rows = [
        [t({zh_CN: '受灾人口', en: 'Affected people'}), m.affected_people, r.affected_people],
        [t({zh_CN: '紧急转移安置', en: 'Evacuated'}), m.evacuated, r.evacuated],
        [t({zh_CN: '需紧急生活救助', en: 'Needing aid'}), m.needing_aid, r.needing_aid],
        [t({zh_CN: '倒塌房屋（间）', en: 'Collapsed rooms'}), m.collapsed_rooms, r.collapsed_rooms],
        [t({zh_CN: '农作物受灾（公顷）', en: 'Crops affected (ha)'}), m.crop_affected_ha, r.crop_affected_ha],
        [t({zh_CN: '直接经济损失（万元）', en: 'Direct loss (10k yuan)'}), m.direct_loss_10k_yuan,
         r.direct_loss_10k_yuan]
      ];
      var table = document.createElement('table');
      table.className = 'popup-table';
      rows.forEach(function (row) {
        var tr = document.createElement('tr');
        var th = document.createElement('th');
        th.textContent = row[0];
        tr.appendChild(th);
        [row[1], row[2]].forEach(function (v) {
          var td = document.createElement('td');
          td.textContent = fmt(v);
          tr.appendChild(td);
        });
        table.appendChild(tr);
      });
      element.appendChild(table);
      var note = document.createElement('p');
      note.textContent = t({zh_CN: '静默社区（模型显示严重但未上报）：', en: 'Silent communities: '}) +
        doc.silent.length + ' · ' +
        t({zh_CN: '损失占GDP', en: 'Loss share of GDP'}) + ' ' +
        (doc.totals.loss_share_of_gdp.modelled_percent || 0) + '% / ' +
        (doc.totals.loss_share_of_gdp.reported_percent || 0) + '%';
      element.appendChild(note);
      var link = document.createElement('a');
      link.href = '/sitrep/';
      link.textContent = t({zh_CN: '灾情简报', en: 'Situation reports'});
      element.appendChild(link);
      var link2 = document.createElement('a');
      link2.href = '/indicators';
      link2.textContent = ' · ' + t({zh_CN: '规划指标', en: 'Plan indicators'});
      element.appendChild(link2);
    }
  });
}());
