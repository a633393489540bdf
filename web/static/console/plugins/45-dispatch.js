/*
 * Dispatch on the map console, for the duty officer: plan a dispatch (needs from reports,
 * the model or both; the depots and items to use), review it on the map as flows summed per
 * depot and township (one line per pair, width by weight) and as a table with names, edit
 * the quantities of draft lines (checked against stock by the server), approve; then follow
 * the orders to delivery, with late ones highlighted.
 *
 * Late (stockpile/tracking.py): not delivered by the plan's due time, i.e. approval + the
 * plan's due hours (12 by default, China's 12-hour target for basic needs).
 * Data: /api/v1/dispatch/options, /plans, /plans/ID/review, /plans/ID/approve,
 * /orders/ID/lines/ITEM, /board. All text goes in through textContent (never HTML).
 */
(function () {
  'use strict';
  var DC = window.DisasterConsole;
  var t = DC.t;

  var STATES = {
    draft: {zh_CN: '草稿', en: 'Draft'},
    approved: {zh_CN: '已批准', en: 'Approved'},
    confirmed: {zh_CN: '已确认', en: 'Confirmed'},
    shipped: {zh_CN: '已发出', en: 'Shipped'},
    delivered: {zh_CN: '已送达', en: 'Delivered'},
    cancelled: {zh_CN: '已取消', en: 'Cancelled'}
  };
  var COLOURS = {draft: '#7a848f', approved: '#1e6fd9', confirmed: '#f27f0c',
                 shipped: '#1a9641', delivered: '#4d4d4d', cancelled: '#bbbbbb'};
  var SOURCES = [
    ['both', {zh_CN: '上报与模型', en: 'Reports and model'}],
    ['reports', {zh_CN: '仅上报（含安置点）', en: 'Reports only (and shelters)'}],
    ['model', {zh_CN: '仅模型估算', en: 'Model only'}]
  ];
  var state = {planId: null, review: null};

  function el(tag, text, className) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (className) { e.className = className; }
    return e;
  }
  function num(v) { return v === null || v === undefined ? '' : Number(v).toLocaleString(); }
  function stateName(s) { return STATES[s] ? t(STATES[s]) : s; }
  function itemName(ln) { return DC.lang === 'en' ? (ln.name_en || ln.name) : ln.name; }
  function when(iso) {
    if (!iso) { return ''; }
    return new Date(iso).toLocaleString(DC.lang === 'en' ? 'en-GB' : 'zh-CN',
                                        {timeZone: 'Asia/Shanghai', hour12: false,
                                         month: '2-digit', day: '2-digit',
                                         hour: '2-digit', minute: '2-digit'});
  }
  /** The server's translated message, never the URL or the status code. */
  function problem(err) {
    if (err && err.body && err.body.error && err.body.error.message) {
      return err.body.error.message;
    }
    return t({zh_CN: '操作未成功，请稍后重试。', en: 'That did not work; please try again.'});
  }
  function pane(map, name, zIndex) {
    if (!map.getPane(name)) { map.createPane(name).style.zIndex = zIndex; }
    return name;
  }

  // The plugin's own styles (the review table and the order list live in its elements).
  var style = document.createElement('style');
  style.textContent = [
    '.dispatch-form fieldset{border:1px solid #d0d4d9;margin:0 0 .5em;padding:.3em .5em}',
    '.dispatch-form legend{font-size:.85em;color:#55606b}',
    '.dispatch-choices{max-height:7em;overflow-y:auto}',
    '.dispatch-choices label{display:block;font-size:.85em;white-space:nowrap}',
    '.dispatch-msg{margin:.4em 0;font-size:.9em}',
    '.dispatch-msg.error{color:#b22222}',
    '.dispatch-msg.ok{color:#1a6b2e}',
    '#dispatch-review{position:absolute;left:10px;bottom:56px;z-index:1000;width:min(680px,70%);',
    ' max-height:46%;overflow:auto;background:#fff;border:1px solid #8a949e;',
    ' box-shadow:0 2px 8px #0003;padding:.5em .7em;font-size:.9em}',
    '#dispatch-review[hidden]{display:none}',
    '#dispatch-review h3{margin:0 0 .3em;font-size:1em}',
    '.dispatch-table{border-collapse:collapse;width:100%}',
    '.dispatch-table th,.dispatch-table td{border-bottom:1px solid #e1e4e8;padding:.2em .4em;',
    ' text-align:left;vertical-align:top}',
    '.dispatch-table td.qty{text-align:right;white-space:nowrap}',
    '.dispatch-table input{width:6em;text-align:right}',
    '.dispatch-table tr.order-start td{border-top:2px solid #c5cad0}',
    '.dispatch-orders{list-style:none;padding:0;margin:0}',
    '.dispatch-orders li{padding:.25em 0;border-bottom:1px solid #eef0f3;font-size:.88em}',
    '.dispatch-orders li.late{background:#fde8e6;border-left:4px solid #d7191c;padding-left:.3em}',
    '.badge{display:inline-block;padding:0 .45em;border-radius:.7em;font-size:.8em;',
    ' background:#e8edf3;margin-left:.3em}',
    '.badge.late{background:#d7191c;color:#fff}',
    '.dispatch-close{float:right}'
  ].join('\n');
  document.head.appendChild(style);

  // ------------------------------------------------------------------ flows on the map

  function flowLayer(collection, p) {
    var feats = (collection && collection.features) || [];
    var most = feats.reduce(function (m, f) {
      return Math.max(m, f.properties.weight_kg || f.properties.quantity || 0);
    }, 1);
    return L.geoJSON(collection, {
      style: function (f) {
        var pr = f.properties;
        var size = pr.weight_kg || pr.quantity || 0;
        return {pane: p, color: pr.late ? '#d7191c' : (COLOURS[pr.status] || '#1e6fd9'),
                opacity: 0.8, lineCap: 'round', className: 'dispatch-flow',
                dashArray: pr.status === 'draft' ? '8 6' : null,
                weight: 2 + 10 * Math.sqrt(size / most)};
      },
      onEachFeature: function (f, layer) {
        var pr = f.properties;
        layer.bindTooltip(pr.depot_name + ' → ' + pr.township_name, {sticky: true});
        layer.bindPopup(function () {
          var rows = [[t({zh_CN: '状态', en: 'Status'}), stateName(pr.status) +
                        (pr.late ? t({zh_CN: '（逾期）', en: ' (late)'}) : '')],
                      [t({zh_CN: '调拨单', en: 'Orders'}), pr.orders.length],
                      [t({zh_CN: '目的地数', en: 'Destinations'}), pr.destinations],
                      [t({zh_CN: '总重量', en: 'Weight'}), num(Math.round(pr.weight_kg)) + ' kg']];
          pr.items.forEach(function (it) {
            rows.push([itemName(it), num(it.quantity) + ' ' + it.unit]);
          });
          return DC.popup(pr.depot_name + ' → ' + pr.township_name, rows);
        });
      }
    });
  }

  async function latestPlanId() {
    var plans = await DC.fetchJSON('/api/v1/dispatch/plans?limit=1');
    return plans.length ? plans[0].id : null;
  }

  DC.addOverlay('dispatch-plan-flows', {
    title: {zh_CN: '调拨方案流向（按乡镇汇总）', en: 'Dispatch plan flows (per township)'},
    refreshSeconds: 120,
    load: async function (map) {
      var id = state.planId !== null ? state.planId : await latestPlanId();
      if (id === null) { return L.layerGroup(); }
      var review = state.review && state.review.plan.id === id ? state.review
        : await DC.fetchJSON('/api/v1/dispatch/plans/' + id + '/review');
      return flowLayer(review.flows, pane(map, 'dispatch-flows', 595));
    }
  });

  // ------------------------------------------------------------------ the review table

  var box = null;
  function reviewBox() {
    if (box) { return box; }
    box = el('section');
    box.id = 'dispatch-review';
    box.hidden = true;
    box.setAttribute('aria-label', t({zh_CN: '调拨方案审核', en: 'Dispatch plan review'}));
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    DC.map.getContainer().appendChild(box);
    return box;
  }

  function renderReview(review, say) {
    var root = reviewBox();
    root.textContent = '';
    root.hidden = false;
    var close = el('button', '×', 'dispatch-close');
    close.type = 'button';
    close.setAttribute('aria-label', t({zh_CN: '关闭', en: 'Close'}));
    close.addEventListener('click', function () { root.hidden = true; });
    root.appendChild(close);
    var plan = review.plan;
    root.appendChild(el('h3', t({zh_CN: '调拨方案 #', en: 'Dispatch plan #'}) + plan.id + ' · ' +
      (plan.status === 'draft' ? t({zh_CN: '草稿', en: 'Draft'})
        : plan.status === 'approved' ? t({zh_CN: '已批准', en: 'Approved'})
          : t({zh_CN: '已被新方案取代', en: 'Superseded'}))));
    var live = review.orders.filter(function (o) { return o.status !== 'cancelled'; });
    root.appendChild(el('div', t({zh_CN: '调拨单 ', en: 'Orders: '}) + live.length +
      t({zh_CN: ' 张 · 流向 ', en: ' · flows: '}) + review.flows.features.length +
      t({zh_CN: ' 条（仓库→乡镇）', en: ' (depot → township)'}) +
      (plan.due_at ? t({zh_CN: ' · 应送达 ', en: ' · due '}) + when(plan.due_at)
        : t({zh_CN: ' · 批准后 ', en: ' · due '}) + plan.due_hours +
          t({zh_CN: ' 小时内送达', en: ' h after approval'}))));
    var msg = el('div', null, 'dispatch-msg');
    msg.id = 'dispatch-review-msg';
    root.appendChild(msg);
    if (say) { msg.textContent = say.text; msg.className = 'dispatch-msg ' + say.kind; }

    var table = el('table', null, 'dispatch-table');
    table.id = 'dispatch-plan-table';
    var head = el('tr');
    [{zh_CN: '仓库', en: 'Depot'}, {zh_CN: '目的地（乡镇）', en: 'Destination (township)'},
     {zh_CN: '物资', en: 'Item'}, {zh_CN: '数量', en: 'Quantity'}].forEach(function (h) {
      head.appendChild(el('th', t(h)));
    });
    var thead = el('thead');
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el('tbody');
    live.forEach(function (o) {
      o.lines.forEach(function (ln, n) {
        var tr = el('tr', null, n === 0 ? 'order-start' : '');
        tr.dataset.order = o.id;
        tr.dataset.item = ln.item;
        tr.dataset.depot = o.depot;
        tr.appendChild(el('td', n === 0 ? o.depot_name : ''));
        tr.appendChild(el('td', n === 0 ? '#' + o.id + ' ' + o.destination_label : ''));
        tr.appendChild(el('td', itemName(ln)));
        var cell = el('td', null, 'qty');
        if (o.status === 'draft') {
          var input = el('input');
          input.type = 'number';
          input.min = '0';
          input.step = '1';
          input.value = ln.quantity;
          input.setAttribute('aria-label', o.destination_label + ' ' + itemName(ln));
          input.addEventListener('change', function () { editLine(o, ln, input); });
          cell.appendChild(input);
          cell.appendChild(document.createTextNode(' ' + ln.unit));
        } else {
          cell.textContent = num(ln.quantity) + ' ' + ln.unit;
        }
        tr.appendChild(cell);
        body.appendChild(tr);
      });
    });
    table.appendChild(body);
    root.appendChild(table);
    if (review.unmet.length) {
      root.appendChild(el('h3', t({zh_CN: '未能满足的需求', en: 'Needs not met'})));
      var ul = el('ul');
      review.unmet.slice(0, 50).forEach(function (u) {
        ul.appendChild(el('li', u.destination_label + '：' + u.name + ' ' + num(u.quantity) +
                               ' ' + u.unit));
      });
      root.appendChild(ul);
    }
    if (plan.status === 'draft') {
      var approve = el('button', t({zh_CN: '批准方案', en: 'Approve plan'}));
      approve.type = 'button';
      approve.id = 'dispatch-approve';
      approve.addEventListener('click', async function () {
        approve.disabled = true;
        try {
          await DC.sendJSON('POST', '/api/v1/dispatch/plans/' + plan.id + '/approve');
          await showPlan(plan.id, {kind: 'ok', text: t({zh_CN: '方案已批准，调拨单已发给各仓库。',
                                                          en: 'Plan approved; the depots have their orders.'})});
          refreshBoard();
        } catch (err) {
          msg.textContent = problem(err);
          msg.className = 'dispatch-msg error';
          approve.disabled = false;
        }
      });
      root.appendChild(approve);
    }
  }

  async function editLine(order, line, input) {
    var msg = document.getElementById('dispatch-review-msg');
    try {
      await DC.sendJSON('PATCH', '/api/v1/dispatch/orders/' + order.id + '/lines/' +
                        encodeURIComponent(line.item), {quantity: Number(input.value)});
      await showPlan(order.plan, {kind: 'ok', text: t({zh_CN: '已修改：', en: 'Changed: '}) +
        order.destination_label + ' ' + itemName(line) + ' ' + input.value + ' ' + line.unit});
    } catch (err) {
      input.value = line.quantity;
      msg.textContent = problem(err);
      msg.className = 'dispatch-msg error';
    }
  }

  async function showPlan(id, say) {
    state.planId = id;
    state.review = await DC.fetchJSON('/api/v1/dispatch/plans/' + id + '/review');
    renderReview(state.review, say);
    DC.reload('dispatch-plan-flows');
  }

  // ------------------------------------------------------------------ the planning panel

  function checkList(name, choices, label) {
    var set = el('fieldset');
    set.appendChild(el('legend', label));
    var all = el('label');
    var allBox = el('input');
    allBox.type = 'checkbox';
    allBox.checked = true;
    all.appendChild(allBox);
    all.appendChild(document.createTextNode(' ' + t({zh_CN: '全部', en: 'All'})));
    set.appendChild(all);
    var list = el('div', null, 'dispatch-choices');
    var boxes = choices.map(function (c) {
      var lab = el('label');
      var input = el('input');
      input.type = 'checkbox';
      input.name = name;
      input.value = c.code;
      input.checked = true;
      lab.appendChild(input);
      lab.appendChild(document.createTextNode(' ' + c.name + (c.unit ? '（' + c.unit + '）' : '')));
      list.appendChild(lab);
      return input;
    });
    allBox.addEventListener('change', function () {
      boxes.forEach(function (b) { b.checked = allBox.checked; });
    });
    set.appendChild(list);
    return {element: set, chosen: function () {
      var on = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
      return on.length === boxes.length ? [] : on;  // all: let the server take every one
    }, count: function () { return boxes.filter(function (b) { return b.checked; }).length; }};
  }

  DC.addPanel('dispatch-plan', {
    title: {zh_CN: '物资调拨方案', en: 'Dispatch plan'},
    refreshSeconds: 0,
    render: async function (element) {
      element.textContent = '';
      var options = await DC.fetchJSON('/api/v1/dispatch/options');
      var form = el('form', null, 'dispatch-form');
      form.id = 'dispatch-form';
      var src = el('fieldset');
      src.appendChild(el('legend', t({zh_CN: '需求来源', en: 'Needs from'})));
      SOURCES.forEach(function (s, n) {
        var lab = el('label');
        var radio = el('input');
        radio.type = 'radio';
        radio.name = 'source';
        radio.value = s[0];
        radio.checked = n === 0;
        lab.appendChild(radio);
        lab.appendChild(document.createTextNode(' ' + t(s[1]) + ' '));
        src.appendChild(lab);
      });
      form.appendChild(src);
      var depots = checkList('depots', options.depots, t({zh_CN: '调出仓库', en: 'Depots'}));
      var items = checkList('items', options.items, t({zh_CN: '调拨物资', en: 'Items'}));
      form.appendChild(depots.element);
      form.appendChild(items.element);
      var due = el('label', t({zh_CN: '送达时限（小时） ', en: 'Deliver within (hours) '}));
      var dueInput = el('input');
      dueInput.type = 'number';
      dueInput.name = 'due_hours';
      dueInput.min = '1';
      dueInput.max = '720';
      dueInput.value = options.due_hours;
      dueInput.style.width = '5em';
      due.appendChild(dueInput);
      form.appendChild(due);
      var go = el('button', t({zh_CN: '生成调拨方案', en: 'Compute a dispatch plan'}));
      go.type = 'submit';
      go.id = 'dispatch-compute';
      form.appendChild(el('div')).appendChild(go);
      var msg = el('div', null, 'dispatch-msg');
      msg.id = 'dispatch-plan-msg';
      var open = el('button', t({zh_CN: '查看当前方案', en: 'Show the current plan'}));
      open.type = 'button';
      open.id = 'dispatch-show';
      element.appendChild(form);
      element.appendChild(msg);
      element.appendChild(open);

      form.addEventListener('submit', async function (ev) {
        ev.preventDefault();
        if (!depots.count() || !items.count()) {
          msg.textContent = t({zh_CN: '请至少选择一个仓库和一种物资。',
                               en: 'Choose at least one depot and one item.'});
          msg.className = 'dispatch-msg error';
          return;
        }
        go.disabled = true;
        msg.textContent = t({zh_CN: '正在计算……', en: 'Computing…'});
        msg.className = 'dispatch-msg';
        try {
          var plan = await DC.sendJSON('POST', '/api/v1/dispatch/plans', {
            source: form.querySelector('input[name=source]:checked').value,
            depots: depots.chosen(), items: items.chosen(),
            due_hours: Number(dueInput.value) || options.due_hours});
          msg.textContent = t({zh_CN: '已生成方案 #', en: 'Plan #'}) + plan.id +
            t({zh_CN: '（草稿），请在地图左下方审核。', en: ' (draft) is ready: review it at the bottom left.'});
          msg.className = 'dispatch-msg ok';
          await showPlan(plan.id);
          refreshBoard();
        } catch (err) {
          msg.textContent = problem(err);
          msg.className = 'dispatch-msg error';
        } finally {
          go.disabled = false;
        }
      });
      open.addEventListener('click', async function () {
        var id = state.planId !== null ? state.planId : await latestPlanId();
        if (id === null) {
          msg.textContent = t({zh_CN: '尚无调拨方案。', en: 'No dispatch plan yet.'});
          return;
        }
        await showPlan(id);
      });
    }
  });

  // ------------------------------------------------------------------ following orders

  var boardRender = null;
  function refreshBoard() { if (boardRender) { boardRender(); } }

  DC.addPanel('dispatch-orders', {
    title: {zh_CN: '调拨单跟踪', en: 'Dispatch orders'},
    refreshSeconds: 60,
    render: async function (element) {
      if (!element.firstChild) {
        var bar = el('label', t({zh_CN: '状态 ', en: 'State '}));
        var select = el('select');
        select.id = 'dispatch-state-filter';
        [['', {zh_CN: '未完成（全部在办）', en: 'Open (all in progress)'}],
         ['late', {zh_CN: '逾期', en: 'Late'}]].concat(Object.keys(STATES).map(function (k) {
          return [k, STATES[k]];
        })).forEach(function (o) {
          var opt = el('option', t(o[1]));
          opt.value = o[0];
          select.appendChild(opt);
        });
        bar.appendChild(select);
        element.appendChild(bar);
        element.appendChild(el('div', t({zh_CN: '逾期：批准后超过方案的送达时限仍未送达。',
                                         en: 'Late: not delivered within the plan\'s hours after approval.'}),
                               'dispatch-msg'));
        var summary = el('div', null, 'dispatch-msg');
        summary.id = 'dispatch-orders-summary';
        element.appendChild(summary);
        var list = el('ul', null, 'dispatch-orders');
        list.id = 'dispatch-orders-list';
        element.appendChild(list);
        select.addEventListener('change', function () { refreshBoard(); });
        boardRender = function () { return fill(element); };
      }
      await fill(element);
    }
  });

  async function fill(element) {
    var select = element.querySelector('#dispatch-state-filter');
    var list = element.querySelector('#dispatch-orders-list');
    var summary = element.querySelector('#dispatch-orders-summary');
    var value = select.value;
    var q = value === 'late' ? '?late=true'
      : value ? '?status=' + value : '?status=draft,approved,confirmed,shipped';
    var board = await DC.fetchJSON('/api/v1/dispatch/board' + q + '&limit=200');
    summary.textContent = Object.keys(STATES).filter(function (k) { return board.counts[k]; })
      .map(function (k) { return stateName(k) + ' ' + board.counts[k]; }).join(' · ') +
      (board.late ? ' · ' + t({zh_CN: '逾期 ', en: 'late '}) + board.late : '');
    list.textContent = '';
    if (!board.orders.length) {
      list.appendChild(el('li', t({zh_CN: '没有符合条件的调拨单', en: 'No orders'})));
    }
    board.orders.forEach(function (o) {
      var li = el('li', null, o.late ? 'late' : '');
      li.dataset.order = o.id;
      li.dataset.status = o.status;
      li.appendChild(el('strong', '#' + o.id + ' '));
      li.appendChild(document.createTextNode(o.depot_name + ' → ' + o.destination_label));
      li.appendChild(el('span', stateName(o.status), 'badge state-' + o.status));
      if (o.late) { li.appendChild(el('span', t({zh_CN: '逾期', en: 'Late'}), 'badge late')); }
      var detail = o.lines.map(function (ln) {
        return itemName(ln) + ' ' + num(ln.quantity) + ' ' + ln.unit;
      }).join('，');
      li.appendChild(el('div', detail));
      if (o.due_at && o.status !== 'delivered' && o.status !== 'cancelled') {
        li.appendChild(el('small', t({zh_CN: '应送达 ', en: 'Due '}) + when(o.due_at)));
      }
      if (o.status === 'shipped') {
        // The destination phoned in: the duty officer records the delivery.
        var done = el('button', t({zh_CN: '确认送达', en: 'Delivered'}), 'dispatch-deliver');
        done.type = 'button';
        done.addEventListener('click', async function () {
          done.disabled = true;
          try {
            await DC.sendJSON('POST', '/api/v1/dispatch/orders/' + o.id + '/deliver', {});
            await fill(element);
          } catch (err) {
            li.appendChild(el('div', problem(err), 'dispatch-msg error'));
            done.disabled = false;
          }
        });
        li.appendChild(document.createTextNode(' '));
        li.appendChild(done);
      }
      list.appendChild(li);
    });
  }
})();
