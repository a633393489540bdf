/*
 * Shelters and evacuation on the map console: each shelter's fill as a bar, shelters unsafe
 * under the current warnings flagged, the latest evacuation plan's flows drawn as lines, and
 * a panel to compute a plan and see where a community's people go.
 * All user-visible text is set through textContent / DC.popup (never HTML).
 */
(function () {
  'use strict';
  var DC = window.DisasterConsole;
  var t = DC.t;

  var STATUS = {standby: {zh_CN: '待命', en: 'Standby'}, open: {zh_CN: '开放', en: 'Open'},
                full: {zh_CN: '已满', en: 'Full'}, closed: {zh_CN: '关闭', en: 'Closed'}};

  function num(v) { return v === null || v === undefined ? '' : Number(v).toLocaleString(); }
  function status(s) { return STATUS[s] ? t(STATUS[s]) : s; }

  function pane(map, name, zIndex) {
    if (!map.getPane(name)) { map.createPane(name).style.zIndex = zIndex; }
    return name;
  }

  function fillColour(share) {
    return share >= 0.9 ? '#d7191c' : share >= 0.5 ? '#f27f0c' : '#1a9641';
  }

  // The marker's HTML holds only numbers and fixed colours computed here, never data text.
  function fillIcon(pr) {
    var share = pr.fill === null || pr.fill === undefined ? 0 : Math.max(0, Number(pr.fill));
    var width = Math.round(Math.min(1, share) * 24);
    var border = pr.safe ? '#2c3440' : '#d7191c';
    var flag = pr.safe ? '' :
      '<div class="shelter-unsafe-flag" style="position:absolute;left:-7px;top:-9px;color:#d7191c;font:bold 13px sans-serif">!</div>';
    var closed = pr.status === 'closed' ? ';opacity:0.45' : '';
    return L.divIcon({
      className: 'shelter-fill-icon', iconSize: [28, 10], iconAnchor: [14, 5],
      html: '<div style="position:relative;width:24px;height:6px;border:2px solid ' + border +
        ';background:#fff' + closed + '"><div style="width:' + width + 'px;height:6px;background:' +
        fillColour(share) + '"></div>' + flag + '</div>'
    });
  }

  DC.addOverlay('shelter-fill', {
    title: {zh_CN: '避难场所容量与安全', en: 'Shelter fill and safety'},
    refreshSeconds: 60,
    visible: true,
    load: async function (map) {
      var data = await DC.fetchJSON('/api/v1/shelters/safety');
      var p = pane(map, 'shelter-fill', 610);
      return L.geoJSON(data, {
        pointToLayer: function (f, latlng) {
          return L.marker(latlng, {pane: p, icon: fillIcon(f.properties),
                                   title: String(f.properties.name || '')});
        },
        onEachFeature: function (f, layer) {
          var pr = f.properties;
          layer.bindPopup(function () {
            var rows = [
              [t({zh_CN: '状态', en: 'Status'}), status(pr.status)],
              [t({zh_CN: '已安置 / 容量', en: 'Occupancy / capacity'}),
               num(pr.occupancy) + ' / ' + num(pr.capacity)],
              [t({zh_CN: '空余', en: 'Free'}), num(pr.free)],
              [t({zh_CN: '安全', en: 'Safety'}),
               pr.safe ? t({zh_CN: '安全', en: 'Safe'}) : t({zh_CN: '不安全（不纳入疏散方案）',
                                                             en: 'Unsafe (left out of plans)'})]
            ];
            (pr.reasons || []).forEach(function (r) {
              rows.push([t({zh_CN: '原因', en: 'Reason'}), r.text || (r.rule + ' ' + r.community)]);
            });
            return DC.popup(pr.name, rows);
          });
        }
      });
    }
  });

  async function latestPlanId() {
    var plans = await DC.fetchJSON('/api/v1/evacuation/plans?limit=1');
    return plans.length ? plans[0].id : null;
  }

  DC.addOverlay('evacuation-flows', {
    title: {zh_CN: '疏散路线（最新方案）', en: 'Evacuation flows (latest plan)'},
    refreshSeconds: 120,
    load: async function (map) {
      var id = await latestPlanId();
      if (id === null) { return L.layerGroup(); }
      var data = await DC.fetchJSON('/api/v1/evacuation/plans/' + id + '/flows');
      var p = pane(map, 'evacuation-flows', 590);
      var most = data.features.reduce(function (m, f) {
        return Math.max(m, f.properties.people);
      }, 1);
      return L.geoJSON(data, {
        style: function (f) {
          return {pane: p, color: '#6a3d9a', opacity: 0.75,
                  weight: 1.5 + 6 * Math.sqrt(f.properties.people / most)};
        },
        onEachFeature: function (f, layer) {
          var pr = f.properties;
          layer.bindPopup(function () {
            return DC.popup(pr.community + ' → ' + pr.shelter, [
              [t({zh_CN: '人数', en: 'People'}), num(pr.people)],
              [t({zh_CN: '其中老幼病残', en: 'Of whom vulnerable'}), num(pr.vulnerable)],
              [t({zh_CN: '距离（公里）', en: 'Distance (km)'}), Number(pr.distance_km).toFixed(1)]
            ]);
          });
        }
      });
    }
  });

  function el(tag, text, className) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (className) { e.className = className; }
    return e;
  }

  function summaryLines(plan) {
    var s = plan.summary || {};
    return [
      t({zh_CN: '方案编号：', en: 'Plan: '}) + plan.id,
      t({zh_CN: '待转移人数：', en: 'People at risk: '}) + num(s.people),
      t({zh_CN: '已安排：', en: 'Placed: '}) + num(s.assigned),
      t({zh_CN: '未能安置：', en: 'Unplaced: '}) + num(s.unassigned) +
        (s.vulnerable_unassigned ? t({zh_CN: '（含老幼病残 ', en: ' (vulnerable '}) +
          num(s.vulnerable_unassigned) + t({zh_CN: '）', en: ')'}) : ''),
      t({zh_CN: '可用安全场所：', en: 'Safe shelters offered: '}) + num(s.shelters)
    ];
  }

  async function showCommunity(planId, code, out) {
    out.textContent = '';
    var data = await DC.fetchJSON('/api/v1/evacuation/plans/' + planId + '/communities/' +
                                  encodeURIComponent(code));
    var list = el('ul');
    data.destinations.forEach(function (d) {
      list.appendChild(el('li', d.shelter + ' — ' + num(d.people) +
        t({zh_CN: ' 人，', en: ' people, '}) + Number(d.distance_km).toFixed(1) +
        t({zh_CN: ' 公里', en: ' km'})));
    });
    if (!data.destinations.length) {
      list.appendChild(el('li', t({zh_CN: '无安排', en: 'No destinations'})));
    }
    if (data.unassigned) {
      list.appendChild(el('li', t({zh_CN: '未能安置：', en: 'Unplaced: '}) + num(data.unassigned)));
    }
    out.appendChild(list);
  }

  DC.addPanel('evacuation', {
    title: {zh_CN: '疏散安置方案', en: 'Evacuation plan'},
    refreshSeconds: 0,
    render: async function (element) {
      element.textContent = '';
      var info = el('div', null, 'evacuation-summary');
      element.appendChild(info);
      var button = el('button', t({zh_CN: '按当前预警计算新方案', en: 'Compute a plan for the current warnings'}));
      button.type = 'button';
      element.appendChild(button);
      var form = el('div', null, 'evacuation-community');
      var input = el('input');
      input.placeholder = t({zh_CN: '社区（村）代码', en: 'Community code'});
      input.setAttribute('aria-label', input.placeholder);
      var ask = el('button', t({zh_CN: '查看去向', en: 'Where do they go?'}));
      ask.type = 'button';
      var answer = el('div');
      form.appendChild(input);
      form.appendChild(ask);
      element.appendChild(form);
      element.appendChild(answer);

      var planId = await latestPlanId();
      async function showPlan(id) {
        info.textContent = '';
        if (id === null) {
          info.appendChild(el('p', t({zh_CN: '尚无疏散方案。', en: 'No evacuation plan yet.'})));
          return;
        }
        var plan = await DC.fetchJSON('/api/v1/evacuation/plans/' + id);
        summaryLines(plan).forEach(function (line) { info.appendChild(el('div', line)); });
      }
      await showPlan(planId);

      button.addEventListener('click', async function () {
        button.disabled = true;
        try {
          var plan = await DC.sendJSON('POST', '/api/v1/evacuation/plans', {});
          planId = plan.id;
          await showPlan(planId);
          DC.reload('evacuation-flows');
        } catch (err) {
          info.appendChild(el('p', err.status === 403
            ? t({zh_CN: '仅值班员可计算方案。', en: 'Only duty officers compute plans.'})
            : err.message, 'error'));
        } finally {
          button.disabled = false;
        }
      });
      ask.addEventListener('click', async function () {
        var code = input.value.trim();
        if (!code || planId === null) { return; }
        try {
          await showCommunity(planId, code, answer);
        } catch (err) {
          answer.textContent = err.message;
        }
      });
    }
  });
})();
