/*
 * Core layers of the map console: county and township outlines (the offline basemap),
 * communities coloured by their current warning level, hazard zones, shelters and depots.
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
      var fill = function (f) {
        var level = f.properties.warning_level;
        return {fillOpacity: level ? 0.65 : 0.12, fillColor: LEVEL_COLOURS[level] || '#9aa5ad'};
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
          s.color = '#6b7680';
          s.weight = 0.6;
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

  DC.addPanel('legend', {
    title: {zh_CN: '图例', en: 'Legend'},
    render: async function (element) {
      element.textContent = '';
      var box = document.createElement('div');
      box.className = 'legend';
      ['blue', 'yellow', 'orange', 'red'].forEach(function (level) {
        var row = document.createElement('div');
        var swatch = document.createElement('i');
        swatch.style.background = LEVEL_COLOURS[level];
        row.appendChild(swatch);
        row.appendChild(document.createTextNode(t(LEVEL_NAMES[level])));
        box.appendChild(row);
      });
      element.appendChild(box);
    }
  });
}());
