/*
 * Relief stock and dispatch on the map console: depots with stock bars, planned and moving
 * dispatch orders drawn as lines, unmet needs as circles, and a panel of stock warnings.
 * Data: /api/v1/depots, /api/v1/dispatch/orders, /api/v1/needs, /api/v1/stock/warnings.
 * All text goes through textContent (DC.popup) or DC.escapeHtml.
 */
(function () {
  'use strict';
  var DC = window.DisasterConsole;
  var t = DC.t;

  var STATUS = {
    draft: {colour: '#7a848f', dash: '4 6', name: {zh_CN: '草稿', en: 'Draft'}},
    approved: {colour: '#1e6fd9', dash: '8 4', name: {zh_CN: '已批准', en: 'Approved'}},
    confirmed: {colour: '#f27f0c', dash: null, name: {zh_CN: '已确认（已预留）', en: 'Confirmed (reserved)'}},
    shipped: {colour: '#1a9641', dash: null, name: {zh_CN: '已发出', en: 'Shipped'}}
  };
  var WARNING_KINDS = {
    low_stock: {zh_CN: '库存不足', en: 'Low stock'},
    expiring: {zh_CN: '临期', en: 'Expiring soon'},
    expired: {zh_CN: '已过期', en: 'Expired'}
  };

  function pane(map, name, zIndex) {
    if (!map.getPane(name)) { map.createPane(name).style.zIndex = zIndex; }
    return name;
  }
  function num(v) { return v === null || v === undefined ? '' : Number(v).toLocaleString(); }

  function itemName(s) {
    return (DC.lang === 'en' ? (s.name_en || s.name) : s.name) || s.item;
  }

  /** A small bar chart (one bar per item, height ∝ share of the largest depot's stock). */
  function barsIcon(stock, maxima) {
    var bars = stock.slice(0, 8).map(function (s) {
      var h = Math.max(2, Math.round(22 * s.quantity / (maxima[s.item] || 1)));
      var label = itemName(s) + ' ' + num(s.quantity) + ' ' + (s.unit || '');
      return '<span style="display:inline-block;width:4px;margin-right:1px;height:' + h +
        'px;background:#0b5cad;vertical-align:bottom" title="' + DC.escapeHtml(label) + '"></span>';
    }).join('');
    return L.divIcon({className: 'stock-bars', iconSize: [48, 26], iconAnchor: [24, 26],
                      html: '<div style="background:#fffc;border:1px solid #0b5cad;padding:1px 2px;' +
                            'height:22px;white-space:nowrap">' + bars + '</div>'});
  }

  DC.addOverlay('stock-bars', {
    title: {zh_CN: '储备库库存（柱状）', en: 'Depot stock (bars)'},
    refreshSeconds: 120,
    load: async function (map) {
      var data = await DC.fetchJSON('/api/v1/depots');
      var p = pane(map, 'stockbars', 610);
      var maxima = {};
      data.features.forEach(function (f) {
        (f.properties.stock || []).forEach(function (s) {
          maxima[s.item] = Math.max(maxima[s.item] || 0, Number(s.quantity) || 0);
        });
      });
      var group = L.layerGroup();
      data.features.forEach(function (f) {
        if (!f.geometry) { return; }
        var pr = f.properties;
        var c = f.geometry.coordinates;
        var marker = L.marker([c[1], c[0]], {pane: p, icon: barsIcon(pr.stock || [], maxima)});
        marker.bindPopup(function () {
          var rows = (pr.stock || []).map(function (s) {
            return [itemName(s), num(s.quantity) + ' ' + (s.unit || '')];
          });
          return DC.popup(pr.name, rows);
        });
        group.addLayer(marker);
      });
      return group;
    }
  });

  // Orders in progress summed per depot and township (/api/v1/dispatch/flows): one line
  // per pair instead of one per order, so hundreds of orders do not become a thicket.
  DC.addOverlay('dispatch-orders', {
    title: {zh_CN: '调拨单（计划与在途）', en: 'Dispatch orders (planned and moving)'},
    refreshSeconds: 60,
    visible: false,  // the dispatch plugin draws the plan under review; this is the whole picture
    load: async function (map) {
      var flows = await DC.fetchJSON('/api/v1/dispatch/flows');
      var p = pane(map, 'orders', 590);
      var most = flows.features.reduce(function (m, f) {
        return Math.max(m, f.properties.weight_kg || f.properties.quantity || 0);
      }, 1);
      return L.geoJSON(flows, {
        style: function (f) {
          var pr = f.properties;
          var st = STATUS[pr.status] || STATUS.draft;
          return {pane: p, color: st.colour, dashArray: st.dash, opacity: 0.85,
                  weight: 1.5 + 8 * Math.sqrt((pr.weight_kg || pr.quantity || 0) / most)};
        },
        onEachFeature: function (f, layer) {
          var pr = f.properties;
          layer.bindPopup(function () {
            var st = STATUS[pr.status] || STATUS.draft;
            var rows = [[t({zh_CN: '状态', en: 'Status'}), t(st.name)],
                        [t({zh_CN: '调拨单', en: 'Orders'}), pr.orders.length]];
            pr.items.forEach(function (it) {
              rows.push([DC.lang === 'en' ? (it.name_en || it.name) : it.name,
                         num(it.quantity) + ' ' + (it.unit || '')]);
            });
            return DC.popup(pr.depot_name + ' → ' + pr.township_name, rows);
          });
        }
      });
    }
  });

  DC.addOverlay('unmet-needs', {
    title: {zh_CN: '未满足需求', en: 'Unmet needs'},
    // Off by default: during an event its circles would hide the warning colours below.
    visible: false,
    refreshSeconds: 120,
    load: async function (map) {
      var needs = await DC.fetchJSON('/api/v1/needs');
      var names = {};  // item code -> "name (unit)": people read names, not codes
      (await DC.fetchJSON('/api/v1/dispatch/options')).items.forEach(function (i) {
        names[i.code] = i.name + '（' + i.unit + '）';
      });
      var p = pane(map, 'needs', 580);
      var group = L.layerGroup();
      needs.forEach(function (d) {
        var items = Object.keys(d.needs || {});
        if (!items.length) { return; }
        var people = (d.evacuated || 0) + (d.needing_aid || 0);
        var radius = 6 + Math.min(24, Math.sqrt(people) / 3);
        var circle = L.circleMarker([d.lat, d.lon], {pane: p, radius: radius, color: '#a12020',
                                                     weight: 1.5, fillColor: '#d7191c', fillOpacity: 0.25});
        circle.bindPopup(function () {
          var rows = [[t({zh_CN: '转移安置', en: 'Evacuated'}), num(d.evacuated)],
                      [t({zh_CN: '需救助', en: 'Needing aid'}), num(d.needing_aid)],
                      [t({zh_CN: '优先级', en: 'Priority'}), d.priority]];
          items.forEach(function (code) { rows.push([names[code] || code, num(d.needs[code])]); });
          return DC.popup(d.name, rows);
        });
        group.addLayer(circle);
      });
      return group;
    }
  });

  DC.addPanel('stock-warnings', {
    title: {zh_CN: '库存预警', en: 'Stock warnings'},
    refreshSeconds: 300,
    render: async function (element) {
      var warnings = await DC.fetchJSON('/api/v1/stock/warnings');
      var options = await DC.fetchJSON('/api/v1/dispatch/options');
      var depotNames = {};
      var itemNames = {};
      options.depots.forEach(function (d) { depotNames[d.code] = d.name; });
      options.items.forEach(function (i) { itemNames[i.code] = i.name + '（' + i.unit + '）'; });
      element.textContent = '';
      if (!warnings.length) {
        element.textContent = t({zh_CN: '无库存预警', en: 'No stock warnings'});
        return;
      }
      var list = document.createElement('ul');
      warnings.slice(0, 50).forEach(function (w) {
        var li = document.createElement('li');
        var text = t(WARNING_KINDS[w.kind] || {en: w.kind}) + ': ' + (depotNames[w.depot] || w.depot) +
          ' ' + (itemNames[w.item] || w.item) + ' ' +
          num(w.quantity) + (w.expires_on ? ' (' + w.expires_on + ')' : '') +
          (w.minimum !== undefined ? ' < ' + num(w.minimum) : '');
        li.textContent = text;
        list.appendChild(li);
      });
      element.appendChild(list);
    }
  });
})();
