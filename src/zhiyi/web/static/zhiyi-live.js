// Live pages: an element with data-events follows that Server-Sent Events stream.
// A message with "html" replaces the element's content; one with "reload" reloads the page
// (the doctor's queue: the reload is the audited read of the patients it lists).
(function () {
  var el = document.querySelector("[data-events]");
  if (!el || !window.EventSource) { return; }
  var shown = el.getAttribute("data-version");
  var source = new EventSource(el.getAttribute("data-events"));
  source.onmessage = function (event) {
    var data = JSON.parse(event.data);
    if (data.reload) {
      if (String(data.version) !== shown) { source.close(); window.location.reload(); }
    } else if (typeof data.html === "string") {
      el.innerHTML = data.html;
    }
    document.documentElement.setAttribute("data-live-version", data.version);
  };
})();
