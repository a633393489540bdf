/*
 * Disaster events on the console: the open events (name, hazard, start in Asia/Shanghai), a
 * form to open one (name, hazard, start) and a button to close one after a confirmation.
 * While an event is open it keeps each community's peak modelled impact, so closing it is a
 * decision the duty officer confirms. Writes go through /api/v1/events (CSRF, role-checked
 * server-side); all text is set through textContent.
 */
(function () {
  'use strict';
  var DC = window.DisasterConsole;
  var t = DC.t;

  var HAZARDS = [['rainstorm', '暴雨', 'Rainstorm'], ['typhoon', '台风', 'Typhoon'],
                 ['gale', '大风', 'Gale'], ['snowstorm', '暴雪', 'Snowstorm'],
                 ['cold_wave', '寒潮', 'Cold wave'], ['heat', '高温', 'Heat'],
                 ['frost', '霜冻', 'Frost'], ['fog', '大雾', 'Fog']];
  var FIELD = {name: {zh_CN: '名称', en: 'Name'}, hazard: {zh_CN: '灾种', en: 'Hazard'},
               started_at: {zh_CN: '开始时间', en: 'Start'}, ended_at: {zh_CN: '结束时间', en: 'End'},
               area_codes: {zh_CN: '范围', en: 'Area'}, body: {zh_CN: '请求', en: 'Request'}};
  var list = null;
  var message = null;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  function hazardName(code) {
    var h = HAZARDS.filter(function (x) { return x[0] === code; })[0];
    return h ? t({zh_CN: h[1], en: h[2]}) : code;
  }

  function when(iso) {
    return new Date(iso).toLocaleString(DC.lang === 'en' ? 'en-GB' : 'zh-CN',
                                        {timeZone: 'Asia/Shanghai', hour12: false, year: 'numeric',
                                         month: 'numeric', day: 'numeric', hour: '2-digit',
                                         minute: '2-digit'});
  }

  /** Now in Beijing time as a datetime-local value (YYYY-MM-DDTHH:MM). */
  function beijingNow() {
    var local = new Date(Date.now() + 8 * 3600 * 1000);
    return local.toISOString().slice(0, 16);
  }

  function errorText(err) {
    var error = err.body && err.body.error;
    if (!error) { return t({zh_CN: '操作失败，请稍后再试', en: 'That did not work; try again'}); }
    var parts = [error.message];
    Object.keys(error.fields || {}).forEach(function (f) {
      parts.push((FIELD[f] ? t(FIELD[f]) : f) + t({zh_CN: '：', en: ': '}) + error.fields[f].join('；'));
    });
    return parts.join(' ');
  }

  function say(text, isError) {
    message.textContent = text;
    message.className = 'event-message' + (isError ? ' warning' : '');
  }

  async function closeEvent(event) {
    var question = t({zh_CN: '确定结束事件「' + event.name + '」吗？结束后不再接收该事件的报告，' +
                              '各村（社区）的模型估计也不再保留。',
                      en: 'Close the event "' + event.name + '"? No more reports are accepted ' +
                          'for it and its modelled estimates are no longer kept.'});
    if (!window.confirm(question)) { return; }
    try {
      var closed = await DC.sendJSON('POST', '/api/v1/events/' + event.id + '/close', {});
      say(t({zh_CN: '已结束事件：', en: 'Closed: '}) + closed.name);
      await refresh();
    } catch (err) {
      say(errorText(err), true);
    }
  }

  async function refresh() {
    var events = await DC.fetchJSON('/api/v1/events?status=open');
    list.textContent = '';
    if (!events.length) {
      list.appendChild(el('li', t({zh_CN: '当前无进行中的事件', en: 'No open event'}), 'muted'));
      return;
    }
    events.forEach(function (event) {
      var item = el('li', null, 'event-row');
      item.appendChild(el('strong', event.name));
      item.appendChild(el('span', ' · ' + hazardName(event.hazard) + ' · ' +
                                  t({zh_CN: '开始于 ', en: 'since '}) + when(event.started_at), 'muted'));
      var button = el('button', t({zh_CN: '结束事件', en: 'Close event'}));
      button.type = 'button';
      button.addEventListener('click', function () { closeEvent(event); });
      item.appendChild(document.createTextNode(' '));
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function openForm() {
    var form = el('form', null, 'event-form');
    form.appendChild(el('div', t({zh_CN: '开启新事件', en: 'Open an event'}), 'form-title'));
    var nameInput = el('input');
    nameInput.name = 'name';
    nameInput.maxLength = 200;
    nameInput.placeholder = t({zh_CN: '如：7·10 暴雨过程', en: 'e.g. 10 July rainstorm'});
    var hazard = el('select');
    hazard.name = 'hazard';
    HAZARDS.forEach(function (h) {
      var o = el('option', t({zh_CN: h[1], en: h[2]}));
      o.value = h[0];
      hazard.appendChild(o);
    });
    var start = el('input');
    start.type = 'datetime-local';
    start.name = 'started_at';
    start.value = beijingNow();
    [[FIELD.name, nameInput], [FIELD.hazard, hazard],
     [{zh_CN: '开始时间（北京时间）', en: 'Start (Beijing time)'}, start]].forEach(function (pair) {
      var label = el('label', t(pair[0]) + ' ');
      label.appendChild(pair[1]);
      form.appendChild(label);
    });
    var button = el('button', t({zh_CN: '开启事件', en: 'Open event'}));
    button.type = 'submit';
    form.appendChild(button);
    form.addEventListener('submit', async function (e) {
      e.preventDefault();
      button.disabled = true;
      var body = {hazard: hazard.value, name: nameInput.value};
      if (start.value) { body.started_at = start.value + ':00+08:00'; }
      try {
        var created = await DC.sendJSON('POST', '/api/v1/events', body);
        say(t({zh_CN: '已开启事件：', en: 'Opened: '}) + created.name);
        nameInput.value = '';
        start.value = beijingNow();
        await refresh();
      } catch (err) {
        say(errorText(err), true);
      }
      button.disabled = false;
    });
    return form;
  }

  DC.addPanel('events', {
    title: {zh_CN: '灾害事件', en: 'Disaster events'},
    refreshSeconds: 60,
    render: async function (element) {
      // The form is built once, so the periodic refresh never wipes what is being typed.
      if (!list) {
        list = el('ul', null, 'event-list');
        message = el('div', '', 'event-message');
        message.setAttribute('role', 'status');
        element.appendChild(list);
        element.appendChild(openForm());
        element.appendChild(message);
      }
      await refresh();
    }
  });
})();
