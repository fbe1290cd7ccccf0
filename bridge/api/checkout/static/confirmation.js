// The confirmation page: ask the checkout (not the operator's API) whether the site has its
// new limits, and say so in the status region. Without this script a "Check again" link does it.
(function () {
  "use strict";
  var region = document.getElementById("push-status");
  if (!region || !window.fetch) { return; }
  var text = document.getElementById("push-status-text");
  var again = document.getElementById("check-again-row");
  var url = region.getAttribute("data-status-url");
  var every = Number(region.getAttribute("data-poll-ms")) || 1000;
  var tries = 0;
  if (region.getAttribute("data-state") !== "waiting") { return; }
  if (again) { again.hidden = true; }

  function ask() {
    tries += 1;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (reply) {
        if (reply && reply.state && reply.state !== region.getAttribute("data-state")) {
          region.setAttribute("data-state", reply.state);
          region.className = "progress " + reply.state;
          text.textContent = reply.text;
        }
        if (reply && reply.state === "waiting" && tries < 120) {
          window.setTimeout(ask, every);
        } else if (!reply && again) {
          again.hidden = false;
        }
      })
      .catch(function () { if (again) { again.hidden = false; } });
  }
  window.setTimeout(ask, every);
})();
