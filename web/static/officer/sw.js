/* Service worker of the officer page (served by /officer/sw.js, which prepends CACHE and
 * ASSETS). The page is network-first (fresh lists when online, the cached copy offline);
 * scripts and styles are cache-first. Submissions are not handled here: the page queues
 * them in IndexedDB and sends them itself when the connection returns. */
self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(ASSETS.map(function (url) {
      return new Request(url, { credentials: "same-origin" });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("officer-") === 0 && k !== CACHE;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === ASSETS[0]) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(ASSETS[0], copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(ASSETS[0]);
    }));
    return;
  }
  if (ASSETS.indexOf(url.pathname) > 0) {
    event.respondWith(caches.match(url.pathname).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});
