// Progressive enhancement: refresh the order summary as the owner picks. Without this script
// the "Update summary" button does the same through a normal form post.
(function () {
  "use strict";
  var form = document.getElementById("checkout-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  document.documentElement.classList.add("js");
  var summary = document.getElementById("order-summary");
  var addons = document.getElementById("addons");
  var ended = document.getElementById("session-ended");
  var url = form.getAttribute("data-summary-url");
  var timer = null;
  var endTimer = null;
  var generation = 0;

  function showEnded(html) {
    // The session has ended: say so where the owner is looking, with the way back.
    ended.innerHTML = html;
    summary.innerHTML = "";
    form.querySelectorAll("input, button").forEach(function (el) { el.disabled = true; });
    var back = ended.querySelector("a");
    if (back) { back.focus(); }
  }

  function markInvalid(invalid) {
    form.querySelectorAll("input[name^='addon-']").forEach(function (input) {
      var message = invalid[input.name];
      var error = document.getElementById(input.id + "-error");
      if (message) {
        input.setAttribute("aria-invalid", "true");
        if (error) { error.textContent = message; error.hidden = false; }
      } else {
        input.removeAttribute("aria-invalid");
        if (error) { error.textContent = ""; error.hidden = true; }
      }
    });
  }

  function replaceSummary(html) {
    if (summary.innerHTML === html) { return; }
    // Keep the focus where it was when the element holding it is drawn again (Confirm).
    var active = document.activeElement;
    var focusedId = active && summary.contains(active) ? active.id : null;
    summary.innerHTML = html;
    if (focusedId) {
      var again = document.getElementById(focusedId);
      (again || document.getElementById("summary-title")).focus();
    }
  }

  function scheduleEnd(endsAt) {
    window.clearTimeout(endTimer);
    var ms = Number(endsAt) * 1000 - Date.now();
    if (!endsAt || !(ms > 0)) { return; }
    // At the end, ask the bridge: another tab may have started the session again.
    endTimer = window.setTimeout(refresh, ms + 1000);
  }

  function refresh() {
    var mine = ++generation;
    var data = new FormData(form);
    data.delete("do");
    summary.parentNode.setAttribute("aria-busy", "true");
    fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 401 || response.status === 400) { return response.json(); }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (reply) {
        if (mine !== generation) { return; }
        if (reply.ended) { showEnded(reply.ended); return; }
        if (reply.outdated) { window.location.reload(); return; }
        var shownFor = form.querySelector("input[name='addons-for']");
        if (!shownFor || shownFor.value !== reply.addons_for) { addons.innerHTML = reply.addons; }
        markInvalid(reply.invalid || {});
        replaceSummary(reply.summary);
        if (reply.title) { document.title = reply.title; }
        scheduleEnd(reply.ends_at);
      })
      .catch(function () {
        // Leave the last summary; the "Update summary" button works without the script.
        document.documentElement.classList.remove("js");
      })
      .then(function () {
        if (mine === generation) { summary.parentNode.removeAttribute("aria-busy"); }
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  }

  form.addEventListener("change", later);
  form.addEventListener("input", function (event) {
    if (event.target && event.target.name && event.target.name.indexOf("addon-") === 0) { later(); }
  });
  scheduleEnd(ended && ended.getAttribute("data-ends-at"));
})();
