// The Pay page: save a card with Stripe.js (a SetupIntent confirmed with the card element), then
// let the checkout charge the invoice on it; 3-D Secure is completed here with confirmCardPayment.
(function () {
  "use strict";
  var panel = document.getElementById("pay-panel");
  if (!panel || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(panel.getAttribute("data-key"));
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var errorBox = document.getElementById("pay-error");
  var status = document.getElementById("pay-status");
  var buttons = document.querySelectorAll("#pay-panel button");
  function say(name) { return panel.getAttribute("data-text-" + name) || ""; }

  function busy(on, text) {
    for (var i = 0; i < buttons.length; i += 1) { buttons[i].disabled = on; }
    status.textContent = text || "";
  }

  function fail(message) {
    busy(false);
    errorBox.textContent = message || say("failed");
    errorBox.hidden = false;
  }

  function post(url, fields) {
    var body = new URLSearchParams();
    body.set("csrf", panel.getAttribute("data-csrf"));
    Object.keys(fields || {}).forEach(function (k) { body.set(k, fields[k]); });
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Accept": "application/json" }
    }).then(function (response) { return response.json(); });
  }

  function settle(reply) {
    if (reply.status === "paid" && reply.next) {
      window.location.assign(reply.next);
    } else if (reply.status === "requires_action" && reply.client_secret) {
      busy(true, say("bank"));
      stripe.confirmCardPayment(reply.client_secret).then(function () {
        return post(panel.getAttribute("data-return-url"));
      }).then(settle, function () { fail(); });
    } else if (reply.status === "processing") {
      busy(true, say("processing"));
    } else {
      fail(reply.message);
    }
  }

  var saved = document.getElementById("pay-saved");
  if (saved) {
    saved.addEventListener("submit", function (event) {
      event.preventDefault();
      busy(true, say("paying"));
      post(panel.getAttribute("data-charge-url")).then(settle, function () { fail(); });
    });
  }

  document.getElementById("pay-new").addEventListener("submit", function (event) {
    event.preventDefault();
    errorBox.hidden = true;
    busy(true, say("checking"));
    post(panel.getAttribute("data-setup-url")).then(function (setup) {
      if (!setup.client_secret) { fail(setup.message); return null; }
      return stripe.confirmCardSetup(setup.client_secret, { payment_method: { card: card } })
        .then(function (result) {
          if (result.error) { fail(result.error.message); return null; }
          busy(true, say("paying"));
          return post(panel.getAttribute("data-card-url"), { setup_id: result.setupIntent.id })
            .then(settle);
        });
    }, function () { fail(); });
  });
})();
