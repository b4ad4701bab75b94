/* Shared helpers of the admin maps: popups built from DOM text nodes (never HTML strings: names come
   from spreadsheets), and the form's CSRF token. The maps themselves are folium's skeletons. */
"use strict";

window.LocatorAdmin = (function () {
  var el = window.locatorCartes.el;

  function popup(title, lines, link) {
    var box = el("div");
    box.appendChild(el("strong", title));
    (lines || []).forEach(function (line) { if (line) box.appendChild(el("p", line)); });
    if (link) box.appendChild(el("a", link.text, { href: link.href }));
    return box;
  }

  function csrfToken() {
    var meta = document.querySelector('input[name="csrf_token"]');
    return meta ? meta.value : "";
  }

  return { el: el, popup: popup, csrfToken: csrfToken };
})();
