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
      window.scrollTo(0, y);
    }
  }

  document.querySelectorAll('form.keep-scroll').forEach(function (form) {
    form.addEventListener('submit', function () {
      window.sessionStorage.setItem(KEY, String(window.scrollY));
      // Tells the server this page restores its own position: it then redirects without
      // the #orders fragment (which, for pages without script, brings the list back).
      if (!form.querySelector('input[name=keep_scroll]')) {
        var flag = document.createElement('input');
        flag.type = 'hidden';
        flag.name = 'keep_scroll';
        flag.value = '1';
        form.appendChild(flag);
      }
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

  // The script runs at the end of the page: the content above is laid out already.
  restore();
}());
