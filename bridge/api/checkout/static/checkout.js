// Progressive enhancement: refresh the order summary as the owner picks. Without this script
// the "Update summary" button does the same through a normal form post.
(function () {
  "use strict";
  var form = document.getElementById("checkout-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  document.documentElement.classList.add("js");
  var summary = document.getElementById("order-summary");
  var addons = document.getElementById("addons");
  var url = form.getAttribute("data-summary-url");
  var timer = null;
  var generation = 0;

  function refresh() {
    var mine = ++generation;
    var data = new FormData(form);
    data.delete("do");
    summary.parentNode.setAttribute("aria-busy", "true");
    fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (reply) {
        if (mine !== generation) { return; }
        var shownFor = form.querySelector("input[name='addons-for']");
        if (!shownFor || shownFor.value !== reply.addons_for) { addons.innerHTML = reply.addons; }
        summary.innerHTML = reply.summary;
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
    if (event.target && event.target.type === "number") { later(); }
  });
})();
