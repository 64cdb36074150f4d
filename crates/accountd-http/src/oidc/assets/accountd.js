// The hosted pages' only script: WebAuthn for "Sign in with a passkey" (also offered in the
// browser's autofill where conditional mediation is supported) and for security keys as a second
// factor. Everything else on the pages works without JavaScript.
(function () {
  "use strict";
  var supported = !!(window.PublicKeyCredential && PublicKeyCredential.parseRequestOptionsFromJSON);

  function post(url, form) {
    var body = new URLSearchParams(new FormData(form));
    return fetch(url, { method: "POST", body: body, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  // The passkey request in progress, if any: the conditional one (autofill) started at load, or the
  // one the button started. Only one can be pending, so the button aborts the conditional request;
  // a conditional request that gets ready only after a click leaves the button's request alone.
  var pending = null;
  function passkey(mediation) {
    var form = document.getElementById("passkey-form");
    if (!form || !supported) return;
    var conditional = mediation === "conditional";
    if (pending) {
      if (conditional && !pending.conditional) return;
      pending.abort();
    }
    var request = (pending = new AbortController());
    request.conditional = conditional;
    post("/u/passkey/options", form).then(function (j) {
      var opts = { publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(j.options), signal: request.signal };
      if (mediation) opts.mediation = mediation;
      return navigator.credentials.get(opts).then(function (cred) {
        form.elements.token.value = j.token;
        form.elements.assertion.value = JSON.stringify(cred.toJSON());
        form.submit();
      });
    }).catch(function (e) {
      if (e && e.name !== "AbortError") console.warn("passkey sign-in:", e);
    }).then(function () {
      if (pending === request) pending = null;
    });
  }

  function securityKey() {
    var form = document.getElementById("webauthn-form");
    if (!form || !supported) return;
    var options = JSON.parse(form.dataset.options);
    navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) }).then(function (cred) {
      form.elements.assertion.value = JSON.stringify(cred.toJSON());
      form.submit();
    }).catch(function (e) { console.warn("security key:", e); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("passkey-button");
    if (button) {
      if (!supported) { button.hidden = true; }
      button.addEventListener("click", function () { passkey(null); });
      if (supported && PublicKeyCredential.isConditionalMediationAvailable) {
        PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) { if (ok) passkey("conditional"); });
      }
    }
    var key = document.getElementById("webauthn-button");
    if (key) key.addEventListener("click", securityKey);
  });
})();
