/*
 * Core layers of the map console: county and township outlines (the offline basemap),
 * communities coloured by their current warning level, hazard zones, shelters and depots
 * (plain dots, replaced by the shelter and stock plugins' richer symbols when those are
 * loaded), and the legend entries of these layers and of the other bundled plugins' layers
 * (a plugin may replace its entries with DC.addLegend under the same id).
 * Everything is fetched from /api/v1 as GeoJSON for the current view and zoom.
 */
(function () {
  'use strict';
  var DC = window.DisasterConsole;
  var t = DC.t;

  var LEVEL_COLOURS = {blue: '#1e6fd9', yellow: '#f2c200', orange: '#f27f0c', red: '#d7191c'};
  var LEVEL_NAMES = {
    blue: {zh_CN: '蓝色预警', en: 'Blue warning'}, yellow: {zh_CN: '黄色预警', en: 'Yellow warning'},
    orange: {zh_CN: '橙色预警', en: 'Orange warning'}, red: {zh_CN: '红色预警', en: 'Red warning'}
  };
  var HAZARD_KINDS = {
    flood_prone: {zh_CN: '洪涝易发区', en: 'Flood-prone'},
    waterlogging: {zh_CN: '内涝区', en: 'Waterlogging'},
    landslide: {zh_CN: '滑坡', en: 'Landslide'}, collapse: {zh_CN: '崩塌', en: 'Collapse'},
    debris_flow: {zh_CN: '泥石流', en: 'Debris flow'}, subsidence: {zh_CN: '地面沉降', en: 'Subsidence'}
  };
  var SHELTER_KINDS = {emergency: {zh_CN: '紧急避难场所', en: 'Emergency'},
                       fixed: {zh_CN: '固定避难场所', en: 'Fixed'},
                       central: {zh_CN: '中心避难场所', en: 'Central'}};
  var SHELTER_STATUS = {standby: {zh_CN: '待命', en: 'Standby'}, open: {zh_CN: '开放', en: 'Open'},
                        full: {zh_CN: '已满', en: 'Full'}, closed: {zh_CN: '关闭', en: 'Closed'}};
  var DEPOT_LEVELS = {city: {zh_CN: '市级', en: 'City'}, county: {zh_CN: '县级', en: 'County'},
                      township: {zh_CN: '乡镇级', en: 'Township'}};

  function label(table, key) { return table[key] ? t(table[key]) : (key || ''); }
  function num(v) { return v === null || v === undefined ? '' : Number(v).toLocaleString(); }

  function pane(map, name, zIndex) {
    if (!map.getPane(name)) { map.createPane(name).style.zIndex = zIndex; }
    return name;
  }

  DC.addOverlay('areas', {
    title: {zh_CN: '县区与乡镇边界', en: 'County and township outlines'},
    priority: true,
    refreshSeconds: 0,
    load: async function (map) {
      var p = pane(map, 'outlines', 420);
      var zoom = map.getZoom();
      var both = await Promise.all([
        DC.fetchJSON('/api/v1/areas?level=township&zoom=' + zoom),
        DC.fetchJSON('/api/v1/areas?level=county&zoom=' + zoom)
      ]);
      var style = function (weight, colour, dash) {
        return {pane: p, color: colour, weight: weight, fill: false, dashArray: dash,
                interactive: false};
      };
      return L.layerGroup([L.geoJSON(both[0], {style: style(1, '#5b6670', '3 3')}),
                           L.geoJSON(both[1], {style: style(2.5, '#2c3440', null)})]);
    }
  });

  DC.addOverlay('communities', {
    title: {zh_CN: '社区（村）预警等级', en: 'Communities by warning level'},
    priority: true,
    refreshSeconds: 60,
    reloadOnMove: true,
    load: async function (map) {
      var data = await DC.fetchJSON('/api/v1/communities?' + DC.viewParams(map));
      var p = pane(map, 'communities', 400);
      // Warned communities stand out (strong fill, outline in their colour); the others stay
      // faint, so the storm is what one sees first even under the flow lines.
      var fill = function (f) {
        var level = f.properties.warning_level;
        return {fillOpacity: level ? 0.75 : 0.08, fillColor: LEVEL_COLOURS[level] || '#9aa5ad'};
      };
      var open = function (pr, latlng) {
        L.popup().setLatLng(latlng).setContent(DC.popup(pr.name, [
          [t({zh_CN: '代码', en: 'Code'}), pr.code],
          [t({zh_CN: '人口', en: 'Population'}), num(pr.population)],
          [t({zh_CN: '户数', en: 'Households'}), num(pr.households)],
          [t({zh_CN: '预警', en: 'Warning'}),
           pr.warning_level ? label(LEVEL_NAMES, pr.warning_level) : t({zh_CN: '无', en: 'None'})]
        ])).openOn(map);
      };
      if (DC.manyPolygons(data.features.length)) {
        return DC.polygonLayer(data, {
          pane: p, style: fill, stroke: {color: '#6b7680', weight: 0.6},
          onClick: function (f, latlng) { open(f.properties, latlng); }
        });
      }
      var layer = L.geoJSON(data, {
        pane: p,
        renderer: L.svg({pane: p}),
        style: function (f) {
          var s = fill(f);
          var level = f.properties.warning_level;
          s.color = level ? LEVEL_COLOURS[level] : '#8a949d';
          s.weight = level ? 1.2 : 0.5;
          return s;
        }
      });
      // One click handler for the whole layer instead of a pop-up bound to each polygon.
      layer.on('click', function (e) { open(e.layer.feature.properties, e.latlng); });
      return layer;
    }
  });

  DC.addOverlay('hazard-zones', {
    title: {zh_CN: '灾害隐患区', en: 'Hazard zones'},
    refreshSeconds: 0,
    visible: false,
    reloadOnMove: true,
    load: async function (map) {
      var data = await DC.fetchJSON('/api/v1/hazard-zones?' + DC.viewParams(map));
      var p = pane(map, 'hazards', 410);
      return L.geoJSON(data, {
        pane: p,
        style: function (f) {
          var level = f.properties.level || 1;
          return {color: '#7b3294', weight: 1, fillColor: '#7b3294',
                  fillOpacity: 0.1 + 0.1 * level};
        },
        onEachFeature: function (f, layer) {
          var pr = f.properties;
          layer.bindPopup(function () {
            return DC.popup(pr.name, [
              [t({zh_CN: '类型', en: 'Kind'}), label(HAZARD_KINDS, pr.kind)],
              [t({zh_CN: '等级', en: 'Level'}), pr.level]
            ]);
          });
        }
      });
    }
  });

  function dot(latlng, colour, radius, p) {
    return L.circleMarker(latlng, {pane: p, radius: radius, color: '#fff', weight: 1.5,
                                   fillColor: colour, fillOpacity: 0.95});
  }

  DC.addOverlay('shelters', {
    title: {zh_CN: '避难场所', en: 'Shelters'},
    replacedBy: ['shelter-fill'],
    refreshSeconds: 60,
    load: async function (map) {
      var data = await DC.fetchJSON('/api/v1/shelters');
      var p = pane(map, 'points', 600);
      return L.geoJSON(data, {
        pointToLayer: function (f, latlng) {
          var pr = f.properties;
          var share = pr.capacity ? pr.occupancy / pr.capacity : 0;
          var colour = pr.status === 'closed' ? '#777' : share >= 0.9 ? '#d7191c'
            : share >= 0.5 ? '#f27f0c' : '#1a9641';
          return dot(latlng, colour, pr.kind === 'central' ? 9 : pr.kind === 'fixed' ? 7 : 5, p);
        },
        onEachFeature: function (f, layer) {
          var pr = f.properties;
          layer.bindPopup(function () {
            return DC.popup(pr.name, [
              [t({zh_CN: '类型', en: 'Kind'}), label(SHELTER_KINDS, pr.kind) +
                (pr['class'] ? ' (' + pr['class'] + ')' : '')],
              [t({zh_CN: '容量', en: 'Capacity'}), num(pr.capacity)],
              [t({zh_CN: '已安置', en: 'Occupancy'}), num(pr.occupancy)],
              [t({zh_CN: '状态', en: 'Status'}), label(SHELTER_STATUS, pr.status)]
            ]);
          });
        }
      });
    }
  });

  DC.addOverlay('depots', {
    title: {zh_CN: '救灾物资储备库', en: 'Relief depots'},
    replacedBy: ['stock-bars'],
    refreshSeconds: 120,
    load: async function (map) {
      var data = await DC.fetchJSON('/api/v1/depots');
      var p = pane(map, 'points', 600);
      return L.geoJSON(data, {
        pointToLayer: function (f, latlng) {
          var m = L.marker(latlng, {pane: p, icon: L.divIcon({
            className: 'depot-icon', iconSize: [16, 16],
            html: '<div class="marker-dot" style="width:16px;height:16px;background:#0b5cad;border-radius:3px"></div>'
          })});
          return m;
        },
        onEachFeature: function (f, layer) {
          var pr = f.properties;
          layer.bindPopup(function () {
            var rows = [[t({zh_CN: '级别', en: 'Level'}), label(DEPOT_LEVELS, pr.level)]];
            (pr.stock || []).forEach(function (s) {
              rows.push([s.name || s.item, num(s.quantity) + ' ' + (s.unit || '')]);
            });
            return DC.popup(pr.name, rows);
          });
        }
      });
    }
  });

  // The legend of every bundled layer (console.js draws it in the side bar).
  var Z = function (zh, en) { return {zh_CN: zh, en: en}; };
  DC.addLegend('communities', {
    overlay: 'communities',
    title: Z('社区（村）预警等级（填色）', 'Communities: warning level (fill)'),
    entries: ['blue', 'yellow', 'orange', 'red'].map(function (level) {
      return {symbol: {kind: 'fill', colour: LEVEL_COLOURS[level]}, label: LEVEL_NAMES[level]};
    }).concat([{symbol: {kind: 'fill', colour: '#dfe3e6'}, label: Z('无预警', 'No warning')}])
  });
  DC.addLegend('areas', {
    overlay: 'areas',
    entries: [{symbol: {kind: 'line', colour: '#2c3440', width: 3}, label: Z('县区界', 'County')},
              {symbol: {kind: 'line', colour: '#5b6670', width: 1, dash: '3 3'},
               label: Z('乡镇界', 'Township')}]
  });
  DC.addLegend('hazard-zones', {
    overlay: 'hazard-zones',
    entries: [{symbol: {kind: 'fill', colour: '#7b3294', border: '#7b3294'},
               label: Z('灾害隐患区（颜色越深等级越高）', 'Hazard zone (darker: higher level)')}]
  });
  DC.addLegend('risk', {
    overlay: 'risk',
    title: Z('综合风险指数（圆环）', 'Community risk index (rings)'),
    entries: [['very_low', '#1a9850', '很低', 'Very low'], ['low', '#91cf60', '低', 'Low'],
              ['medium', '#fee08b', '中', 'Medium'], ['high', '#fc8d59', '高', 'High'],
              ['very_high', '#d73027', '很高', 'Very high']].map(function (r) {
      return {symbol: {kind: 'ring', colour: r[1]}, label: Z(r[2], r[3])};
    }),
    note: Z('圆环大小表示人口；圆环叠加在预警填色之上，两者同时可见。',
            'Ring size shows population; the rings sit over the warning colours, both stay visible.')
  });
  DC.addLegend('shelters', {
    overlay: 'shelters',
    entries: [{symbol: {kind: 'dot', colour: '#1a9641'}, label: Z('安置不足50%', 'Under 50 % full')},
              {symbol: {kind: 'dot', colour: '#f27f0c'}, label: Z('50%–90%', '50–90 % full')},
              {symbol: {kind: 'dot', colour: '#d7191c'}, label: Z('90%以上', 'Over 90 % full')},
              {symbol: {kind: 'dot', colour: '#777'}, label: Z('关闭', 'Closed')}],
    note: Z('圆点越大，场所类型越高（紧急 < 固定 < 中心）。',
            'Larger dots: emergency < fixed < central shelters.')
  });
  DC.addLegend('shelter-fill', {
    overlay: 'shelter-fill',
    title: Z('避难场所（条形为已安置比例）', 'Shelters (bar: share occupied)'),
    entries: [{symbol: {kind: 'bar', colour: '#1a9641', share: 0.3}, label: Z('安置不足50%', 'Under 50 %')},
              {symbol: {kind: 'bar', colour: '#f27f0c', share: 0.7}, label: Z('50%–90%', '50–90 %')},
              {symbol: {kind: 'bar', colour: '#d7191c', share: 0.95}, label: Z('90%以上', 'Over 90 %')},
              {symbol: {kind: 'bar', colour: '#d7191c', border: '#d7191c', share: 0.3},
               label: Z('红框：不安全', 'Red frame: unsafe')},
              {symbol: {kind: 'glyph', colour: '#d7191c', text: '!'},
               label: Z('当前预警下不安全，不纳入疏散方案', 'Unsafe under the current warnings, left out of plans')}],
    note: Z('半透明：场所关闭。', 'Faded: shelter closed.')
  });
  DC.addLegend('depots', {
    overlay: 'depots',
    entries: [{symbol: {kind: 'fill', colour: '#0b5cad'}, label: Z('救灾物资储备库', 'Relief depot')}]
  });
  DC.addLegend('stock-bars', {
    overlay: 'stock-bars',
    title: Z('救灾物资储备库（柱状为库存）', 'Relief depots (bars: stock)'),
    entries: [{symbol: {kind: 'bar', colour: '#0b5cad', border: '#0b5cad', share: 0.6},
               label: Z('每根柱代表一种物资，高度为相对各库最大库存的比例',
                        'One bar per item, height relative to the largest depot stock')}]
  });
  DC.addLegend('evacuation-flows', {
    overlay: 'evacuation-flows',
    title: Z('疏散路线（最新疏散方案）', 'Evacuation flows (latest plan)'),
    entries: [{symbol: {kind: 'line', colour: '#6a3d9a', width: 4},
               label: Z('社区（村）→ 避难场所，线越粗人数越多', 'Community → shelter, wider: more people')}]
  });
  DC.addLegend('dispatch-orders', {
    overlay: 'dispatch-orders',
    title: Z('物资调拨单（储备库 → 目的地）', 'Dispatch orders (depot → destination)'),
    entries: [{symbol: {kind: 'line', colour: '#7a848f', width: 2, dash: '4 6'}, label: Z('草案', 'Draft')},
              {symbol: {kind: 'line', colour: '#1e6fd9', width: 2, dash: '8 4'}, label: Z('已批准', 'Approved')},
              {symbol: {kind: 'line', colour: '#f27f0c', width: 3}, label: Z('已确认（已预留）', 'Confirmed')},
              {symbol: {kind: 'line', colour: '#1a9641', width: 4}, label: Z('运输中', 'Shipped')}]
  });
  DC.addLegend('unmet-needs', {
    overlay: 'unmet-needs',
    entries: [{symbol: {kind: 'dot', colour: '#f4b6b6', border: '#a12020'},
               label: Z('未满足的物资需求，圆越大人数越多', 'Unmet needs, larger: more people')}]
  });
  DC.addLegend('uncovered-communities', {
    overlay: 'uncovered-communities',
    entries: [{symbol: {kind: 'line', colour: '#8e24aa', width: 3, dash: '6 4'},
               label: Z('紫色虚线边框：无主岗信息员', 'Dashed purple outline: no primary officer')}]
  });
}());
