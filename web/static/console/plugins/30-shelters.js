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
            var box = DC.popup(pr.name, rows);
            var link = document.createElement('a');
            link.href = '/shelters/operations#shelter-' + encodeURIComponent(pr.code);
            link.className = 'shelter-ops-link';
            link.textContent = t({zh_CN: '登记入住 / 离开', en: 'Check people in / out'});
            box.appendChild(link);
            return box;
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
            return DC.popup((pr.community_name || pr.community) + ' → ' +
                            (pr.shelter_name || pr.shelter), [
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
      t({zh_CN: '可用安全场所：', en: 'Safe shelters offered: '}) + num(s.shelters),
      // Free places = capacity − people checked in (issued orders reserve nothing).
      t({zh_CN: '空余床位合计：', en: 'Free places offered: '}) +
        num(((plan.problem || {}).shelters || []).reduce(function (n, x) {
          return n + x.available;
        }, 0))
    ];
  }

  // The server's translated message, never a URL or a status code.
  function errText(err) {
    return err && err.body && err.body.error ? err.body.error.message
      : t({zh_CN: '操作失败，请稍后重试。', en: 'That did not work; please try again.'});
  }

  function placeName(c) {
    return c.township ? c.name + '（' + c.township + '）' : c.name;
  }

  function km(v) { return Number(v).toFixed(1); }

  // Where one planned community goes: shelter names, people and distance, and who is left.
  function showCommunity(c, out) {
    out.textContent = '';
    out.appendChild(el('div', placeName(c) + t({zh_CN: '：转移 ', en: ': move '}) + num(c.people) +
                        t({zh_CN: ' 人', en: ' people'}), 'evacuation-where-title'));
    var list = el('ul', null, 'evacuation-where');
    c.destinations.forEach(function (d) {
      list.appendChild(el('li', d.shelter_name + ' — ' + num(d.people) +
        t({zh_CN: ' 人，', en: ' people, '}) + km(d.distance_km) + t({zh_CN: ' 公里', en: ' km'})));
    });
    if (!c.destinations.length) {
      list.appendChild(el('li', t({zh_CN: '无可用避难场所', en: 'No shelter has room'})));
    }
    if (c.unassigned) {
      list.appendChild(el('li', t({zh_CN: '未能安置：', en: 'Unplaced: '}) + num(c.unassigned) +
                              t({zh_CN: ' 人', en: ' people'})));
    }
    out.appendChild(list);
  }

  function localTime(iso) {
    if (!iso) { return ''; }
    return new Date(iso).toLocaleString(DC.lang === 'en' ? 'en-GB' : 'zh-CN',
      {timeZone: 'Asia/Shanghai', month: '2-digit', day: '2-digit', hour: '2-digit',
       minute: '2-digit'});
  }

  // Per issued order: who acknowledged (when, by whom) and who not yet, by name and township.
  function renderOrders(orders, host) {
    host.textContent = '';
    if (!orders.length) { return; }
    orders.slice(0, 3).forEach(function (o) {
      var box = el('div', null, 'evacuation-order');
      box.setAttribute('data-order', o.id);
      box.appendChild(el('h3', t({zh_CN: '疏散令 ', en: 'Evacuation order '}) + o.id +
        t({zh_CN: '（方案 ', en: ' (plan '}) + o.plan_id + t({zh_CN: '）', en: ')'})));
      box.appendChild(el('div', t({zh_CN: '签发：', en: 'Issued: '}) + localTime(o.issued_at) +
        ' · ' + o.issued_by));
      box.appendChild(el('div', t({zh_CN: '已确认 ', en: 'Acknowledged '}) + o.acknowledged +
        ' / ' + o.communities.length, 'order-ack-count'));
      var done = o.communities.filter(function (c) { return c.acknowledged_at; });
      var waiting = o.communities.filter(function (c) { return !c.acknowledged_at; });
      if (done.length) {
        box.appendChild(el('div', t({zh_CN: '已确认：', en: 'Acknowledged:'})));
        var ul = el('ul', null, 'order-acked');
        done.forEach(function (c) {
          ul.appendChild(el('li', placeName(c) + ' — ' + c.acknowledged_by + ' ' +
                                  localTime(c.acknowledged_at)));
        });
        box.appendChild(ul);
      }
      if (waiting.length) {
        box.appendChild(el('div', t({zh_CN: '未确认：', en: 'Not acknowledged:'})));
        var wl = el('ul', null, 'order-waiting');
        waiting.forEach(function (c) { wl.appendChild(el('li', placeName(c))); });
        box.appendChild(wl);
      }
      host.appendChild(box);
    });
  }

  var ordersTimer = null;

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
      var select = el('select');
      select.id = 'evacuation-community-select';
      select.style.maxWidth = '100%';
      select.setAttribute('aria-label', t({zh_CN: '方案中的社区（村）', en: 'Community in the plan'}));
      var ask = el('button', t({zh_CN: '查看去向', en: 'Where do they go?'}));
      ask.type = 'button';
      ask.id = 'evacuation-where-button';
      var answer = el('div', null, 'evacuation-answer');
      form.appendChild(select);
      form.appendChild(ask);
      element.appendChild(form);
      element.appendChild(answer);
      var issue = el('button', t({zh_CN: '签发疏散令', en: 'Issue the evacuation order'}));
      issue.type = 'button';
      issue.id = 'evacuation-issue';
      var issueNote = el('div', null, 'evacuation-issue-note');
      element.appendChild(issue);
      element.appendChild(issueNote);
      var ordersBox = el('div', null, 'evacuation-orders');
      element.appendChild(ordersBox);
      var communities = [];
      var orders = [];

      async function refreshOrders() {
        try {
          orders = await DC.fetchJSON('/api/v1/evacuation/orders?limit=5');
          renderOrders(orders, ordersBox);
        } catch (err) {
          ordersBox.textContent = errText(err);
        }
      }

      function issuedFor(id) {
        return orders.some(function (o) { return o.plan_id === id; });
      }

      var planId = await latestPlanId();
      async function showPlan(id) {
        info.textContent = '';
        select.textContent = '';
        answer.textContent = '';
        issueNote.textContent = '';
        communities = [];
        if (id === null) {
          info.appendChild(el('p', t({zh_CN: '尚无疏散方案。', en: 'No evacuation plan yet.'})));
          issue.disabled = true;
          form.hidden = true;
          return;
        }
        var plan = await DC.fetchJSON('/api/v1/evacuation/plans/' + id);
        summaryLines(plan).forEach(function (line) { info.appendChild(el('div', line)); });
        communities = await DC.fetchJSON('/api/v1/evacuation/plans/' + id + '/communities');
        communities.forEach(function (c, i) {
          var option = el('option', placeName(c));
          option.value = String(i);
          select.appendChild(option);
        });
        form.hidden = !communities.length;
        var issued = issuedFor(id);
        issue.disabled = issued || !communities.length;
        if (issued) {
          issueNote.textContent = t({zh_CN: '本方案已签发。', en: 'This plan has been issued.'});
        }
      }
      await refreshOrders();
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
            : errText(err), 'error'));
        } finally {
          button.disabled = false;
        }
      });
      ask.addEventListener('click', function () {
        var c = communities[Number(select.value)];
        if (c) { showCommunity(c, answer); }
      });
      select.addEventListener('change', function () {
        var c = communities[Number(select.value)];
        if (c) { showCommunity(c, answer); }
      });
      issue.addEventListener('click', async function () {
        if (planId === null) { return; }
        var people = communities.reduce(function (n, c) { return n + c.people; }, 0);
        var question = t({zh_CN: '向 ' + communities.length + ' 个社区（村）签发疏散令，转移 ' +
                                   num(people) + ' 人？',
                          en: 'Issue the evacuation order to ' + communities.length +
                              ' communities, moving ' + num(people) + ' people?'});
        if (!window.confirm(question)) { return; }
        issue.disabled = true;
        try {
          await DC.sendJSON('POST', '/api/v1/evacuation/orders', {plan_id: planId});
          issueNote.textContent = t({zh_CN: '疏散令已签发，已通知各社区灾害信息员。',
                                     en: 'Order issued; the communities\' officers are notified.'});
          await refreshOrders();
        } catch (err) {
          issueNote.textContent = errText(err);
          issue.disabled = issuedFor(planId);
        }
      });
      // Acknowledgements arrive while the officer watches; a plan computed elsewhere (another
      // duty officer, the CLI) replaces the one shown, so the list matches the map's flows.
      async function refresh() {
        await refreshOrders();
        try {
          var latest = await latestPlanId();
          if (latest !== planId) { planId = latest; await showPlan(planId); }
        } catch (err) { /* kept: the next refresh tries again */ }
      }
      if (ordersTimer) { window.clearInterval(ordersTimer); }
      ordersTimer = window.setInterval(refresh, 30000);
    }
  });
})();
