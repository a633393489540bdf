/*
 * Warning delivery on the map console: per active message, how its SMS and e-mail stand
 * (sent, failed, waiting per channel) and the officers it did not reach, with name, phone and
 * villages, so that the duty officer phones them. Duty officers and administrators only (the
 * list carries phone numbers); for other roles the panel says so. Text via textContent only.
 */
(function () {
  'use strict';
  var DC = window.DisasterConsole;
  var t = DC.t;

  var HAZARD = DC.hazards;
  var LEVEL = DC.levels;
  var CHANNEL = {inbox: {zh_CN: '站内通知', en: 'Inbox'}, sms: {zh_CN: '短信', en: 'SMS'},
                 email: {zh_CN: '邮件', en: 'E-mail'}};
  var openFailed = {};  // alert identifier -> the failed list is open (kept across refresh)

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  function name(map, value) { return map[value] ? t(map[value]) : value; }

  function countsTable(status) {
    var table = el('table', null, 'delivery-counts');
    table.style.borderSpacing = '12px 2px';
    var head = el('tr');
    [{zh_CN: '渠道', en: 'Channel'}, {zh_CN: '已发送', en: 'Sent'}, {zh_CN: '失败', en: 'Failed'},
     {zh_CN: '待发送', en: 'Waiting'}].forEach(function (h) { head.appendChild(el('th', t(h))); });
    table.appendChild(head);
    status.channels.filter(function (c) { return c.channel !== 'inbox'; }).forEach(function (c) {
      var row = el('tr', null, 'delivery-channel-' + c.channel);
      row.appendChild(el('td', name(CHANNEL, c.channel)));
      row.appendChild(el('td', c.sent));
      row.appendChild(el('td', c.failed, c.failed ? 'delivery-failed' : null));
      row.appendChild(el('td', c.pending));
      table.appendChild(row);
    });
    return table;
  }

  function failedList(alert, status) {
    var details = el('details', null, 'delivery-failed-officers');
    details.open = !!openFailed[alert.identifier];
    details.addEventListener('toggle', function () { openFailed[alert.identifier] = details.open; });
    details.appendChild(el('summary', t({zh_CN: '未送达，请电话通知：', en: 'Not reached, phone them: '}) +
                           status.failed_officers.length + t({zh_CN: ' 人', en: ''})));
    var list = el('ul');
    status.failed_officers.forEach(function (o) {
      var item = el('li', null, 'failed-officer');
      item.appendChild(el('strong', o.name));
      if (o.phone) {
        var tel = el('a', o.phone, 'phone');
        tel.href = 'tel:' + o.phone;
        item.appendChild(document.createTextNode(' '));
        item.appendChild(tel);
      } else {
        item.appendChild(el('span', t({zh_CN: ' 无电话', en: ' no phone'}), 'muted'));
      }
      if (o.communities.length) {
        item.appendChild(el('div', t({zh_CN: '负责：', en: 'Covers: '}) +
                            o.communities.join(t({zh_CN: '、', en: ', '})), 'muted'));
      }
      item.appendChild(el('div', t({zh_CN: '失败渠道：', en: 'Failed: '}) + o.channels.map(function (c) {
        return name(CHANNEL, c);
      }).join(t({zh_CN: '、', en: ', '})), 'muted'));
      list.appendChild(item);
    });
    details.appendChild(list);
    return details;
  }

  async function render(element) {
    var alerts = await DC.fetchJSON('/api/v1/alerts?status=active');
    var rank = {red: 4, orange: 3, yellow: 2, blue: 1};
    alerts.sort(function (a, b) { return (rank[b.level] || 0) - (rank[a.level] || 0); });
    var cards = [];
    for (var i = 0; i < alerts.length; i++) {
      var alert = alerts[i];
      var status;
      try {
        status = await DC.fetchJSON('/api/v1/alerts/' + alert.id + '/deliveries');
      } catch (err) {
        if (err.status === 403) {
          element.textContent = '';
          element.appendChild(el('div', t({zh_CN: '送达情况仅值班员可见', en: 'Delivery state: duty officers only'}),
                                 'muted'));
          return;
        }
        throw err;
      }
      var card = el('div', null, 'delivery-card');
      card.dataset.alert = alert.identifier;
      card.appendChild(el('div', alert.headline || (name(HAZARD, alert.hazard) + name(LEVEL, alert.level) +
                          t({zh_CN: '预警', en: ' warning'})), 'delivery-title'));
      card.appendChild(countsTable(status));
      if (status.failed_officers.length) { card.appendChild(failedList(alert, status)); }
      cards.push(card);
    }
    element.textContent = '';
    if (!cards.length) {
      element.appendChild(el('div', t({zh_CN: '当前无生效预警', en: 'No active alerts'}), 'muted'));
      return;
    }
    cards.forEach(function (c) { element.appendChild(c); });
  }

  DC.addPanel('delivery', {
    title: {zh_CN: '预警送达情况', en: 'Warning delivery'},
    refreshSeconds: 15,
    render: render
  });
})();
