/*
 * The depot page: "select all" for the order checkboxes, and the scroll position kept
 * across the post-and-redirect of its forms (the page reloads after each action, and a
 * manager working down a long list must not be thrown back to the top).
 */
(function () {
  'use strict';
  var KEY = 'depot-scroll:' + window.location.pathname;

  function restore() {
    var saved = window.sessionStorage.getItem(KEY);
    if (saved === null) { return; }
    window.sessionStorage.removeItem(KEY);
    var y = parseInt(saved, 10);
    if (!isNaN(y)) {
      // After the fragment jump (#orders) the browser made: ours wins.
      window.scrollTo(0, y);
    }
  }

  document.querySelectorAll('form.keep-scroll').forEach(function (form) {
    form.addEventListener('submit', function () {
      window.sessionStorage.setItem(KEY, String(window.scrollY));
      // Without the fragment the browser keeps our position instead of jumping.
      if (form.action.indexOf('#') >= 0) { form.action = form.action.split('#')[0]; }
    });
  });

  var all = document.getElementById('select-all-orders');
  if (all) {
    all.addEventListener('change', function () {
      document.querySelectorAll('input.order-box').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }

  if (document.readyState === 'complete') { restore(); }
  else { window.addEventListener('load', restore); }
}());
