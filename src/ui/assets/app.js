// Progressive enhancement of the operator pages; every page works without it.
// - Live updates: while the page says it is not settled, parts marked [data-live] are
//   refreshed from the same URL every 2 seconds (no reload, no lost form input).
// - Forms marked [data-enhance] are posted in the background with progress shown, then the
//   live parts refresh and polling resumes until the provider has answered.
(function () {
  'use strict';
  var statusLine = document.getElementById('live-status');
  if (!statusLine) return;
  var timer = null;

  function swap(doc) {
    document.querySelectorAll('[data-live]').forEach(function (el) {
      var next = el.id && doc.getElementById(el.id);
      if (next) el.replaceWith(document.importNode(next, true));
    });
    var nextStatus = doc.getElementById('live-status');
    if (nextStatus) {
      statusLine.dataset.settled = nextStatus.dataset.settled;
      statusLine.textContent = nextStatus.textContent;
    }
    ['.notice', '.problem'].forEach(function (sel) {
      var mine = document.querySelector('main > ' + sel);
      var theirs = doc.querySelector('main > ' + sel);
      if (mine) mine.remove();
      if (theirs) document.getElementById('main').prepend(document.importNode(theirs, true));
    });
  }

  function fetchPage(url, init) {
    return fetch(url, Object.assign({ credentials: 'same-origin', headers: { accept: 'text/html' } }, init)).then(function (res) {
      return res.text().then(function (html) { return { ok: res.ok, doc: new DOMParser().parseFromString(html, 'text/html') }; });
    });
  }

  function poll() {
    clearTimeout(timer);
    if (statusLine.dataset.settled === 'true') return;
    timer = setTimeout(function () {
      fetchPage(location.pathname + location.search).then(function (r) { if (r.ok) swap(r.doc); poll(); }, poll);
    }, 2000);
  }

  document.querySelectorAll('form[data-enhance]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var button = form.querySelector('button[type=submit]');
      var label = button.textContent;
      button.disabled = true;
      button.textContent = statusLine.dataset.progress || '…';
      statusLine.textContent = button.textContent;
      fetchPage(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)), headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' } })
        .then(function (r) {
          swap(r.doc);
          if (r.ok) statusLine.dataset.settled = 'false';
        })
        .catch(function () { statusLine.textContent = ''; })
        .finally(function () { button.disabled = false; button.textContent = label; poll(); });
    });
  });
  poll();
})();
