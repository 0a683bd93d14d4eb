// libpush viewer: the little the pages need. No inline scripts (the CSP forbids them).
(function () {
  "use strict";

  function player() {
    return document.getElementById("player");
  }

  function seekTo(seconds) {
    var media = player();
    if (!media || !isFinite(seconds)) return;
    var go = function () {
      media.currentTime = seconds;
      var p = media.play();
      if (p && p.catch) p.catch(function () { /* the reader presses play */ });
    };
    if (media.readyState >= 1) go();
    else {
      media.addEventListener("loadedmetadata", go, { once: true });
      media.load();
    }
  }

  function markCurrent() {
    var media = player();
    if (!media) return;
    var buttons = document.querySelectorAll("button.seek[data-start]");
    var current = null;
    buttons.forEach(function (b) {
      if (parseFloat(b.dataset.start) <= media.currentTime + 0.25) current = b;
    });
    buttons.forEach(function (b) {
      b.classList.toggle("current", b === current);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button.seek[data-start]").forEach(function (b) {
      b.addEventListener("click", function () {
        seekTo(parseFloat(b.dataset.start));
      });
    });
    var media = player();
    if (media) media.addEventListener("timeupdate", markCurrent);

    // Left and right arrow keys turn pages (journals, collections, results).
    document.addEventListener("keydown", function (e) {
      if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
      var t = e.target;
      if (t && t.closest && t.closest("input, textarea, select, video, audio, button")) return;
      var rel = e.key === "ArrowLeft" ? "prev" : e.key === "ArrowRight" ? "next" : null;
      if (!rel) return;
      var link = document.querySelector("a[rel=" + rel + "]");
      if (link) window.location.href = link.href;
    });
  });
})();
