// Passkey ceremonies for /k/{clinic}/aktiver and /k/{clinic}/passnokkel.
// The server sends WebAuthn options as JSON (binary fields in base64url); this script
// turns them into what navigator.credentials expects, and the answer back into JSON.
// What it says comes from the page (data-tekst-*), in the page's language.
"use strict";

(function () {
  const form = document.getElementById("passnokkel");
  const status = document.getElementById("status");
  if (!form || !status) return;
  const clinic = form.dataset.clinic;
  const enrol = form.dataset.kind === "aktiver";
  const code = document.getElementById("kode");
  const t = (name) => form.getAttribute("data-tekst-" + name) || "";

  // A code handed over as a link (…/aktiver#ABCD-EFGH-JKMN) fills the field; the part
  // after # never reaches the server or its logs.
  if (code && window.location.hash.length > 1) {
    code.value = decodeURIComponent(window.location.hash.slice(1));
    history.replaceState(null, "", window.location.pathname);
  }

  function say(text) {
    status.textContent = text;
  }

  function fromB64url(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(b64 + "===".slice((b64.length + 3) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
  }

  function toB64url(buffer) {
    let raw = "";
    new Uint8Array(buffer).forEach((b) => (raw += String.fromCharCode(b)));
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(o) {
    const pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: fromB64url(pk.user.id) });
    pk.excludeCredentials = (pk.excludeCredentials || []).map((c) =>
      Object.assign({}, c, { id: fromB64url(c.id) }));
    return { publicKey: pk };
  }

  function requestOptions(o) {
    const pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.allowCredentials = (pk.allowCredentials || []).map((c) =>
      Object.assign({}, c, { id: fromB64url(c.id) }));
    return { publicKey: pk };
  }

  function answer(cred) {
    if (typeof cred.toJSON === "function") return cred.toJSON();
    const r = cred.response;
    const response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) response.userHandle = toB64url(r.userHandle);
    }
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: response,
      clientExtensionResults: cred.getClientExtensionResults(),
    };
  }

  async function post(path, body) {
    const res = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try {
      data = await res.json();
    } catch (e) {
      data = {};
    }
    if (!res.ok) throw new Error(data.feil || t("feil"));
    return data;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!window.PublicKeyCredential) {
      say(t("ikke-stottet"));
      return;
    }
    const base = "/k/" + clinic + (enrol ? "/aktiver" : "/passnokkel");
    try {
      say(enrol ? t("sjekker") : t("venter"));
      if (enrol) {
        const options = await post(base + "/start", { kode: code.value });
        say(t("lag"));
        const cred = await navigator.credentials.create(creationOptions(options));
        const done = await post(base + "/fullfor", answer(cred));
        say(t("laget"));
        window.location.assign(done.neste);
      } else {
        const options = await post(base + "/start");
        const cred = await navigator.credentials.get(requestOptions(options));
        const done = await post(base + "/fullfor", answer(cred));
        say(t("inne"));
        window.location.assign(done.neste);
      }
    } catch (e) {
      if (e && e.name === "NotAllowedError") {
        say(t("avbrutt"));
      } else {
        say(e && e.message ? e.message : t("feil"));
      }
    }
  });
})();
