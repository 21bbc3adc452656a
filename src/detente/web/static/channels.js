/* Secure channels in the browser: keys generated, locked and unlocked here, messages sealed
   and opened here, with libsodium.js (vendored: /static/vendor/). The server only ever
   receives and returns ciphertext. The formats are those of detente/channels/crypto.py,
   byte for byte. The unlocked keys stay in this tab (sessionStorage) until it closes or
   the user locks them. */
(function () {
  "use strict";
  const VERSION = "detente-channels/1";
  const API = "/api/v1/channels";
  const STORE = "detente-channel-keys";
  let S = null; // libsodium, once ready
  const enc = new TextEncoder();
  const dec = new TextDecoder();

  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  function b64(bytes) { return S.to_base64(bytes, S.base64_variants.ORIGINAL); }
  function unb64(text) { return S.from_base64(text, S.base64_variants.ORIGINAL); }
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let i = 0;
    for (const p of parts) { out.set(p, i); i += p.length; }
    return out;
  }
  function fingerprint(signPublic, boxPublic) {
    const hex = S.to_hex(S.crypto_hash_sha256(concat(enc.encode("detente-key/1"), signPublic, boxPublic))).slice(0, 32);
    return hex.match(/.{4}/g).join(" ");
  }
  async function api(method, path, body) {
    const init = { method, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(API + path, init);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = data.error ? data.error.message : response.statusText;
      throw new Error(message);
    }
    return data;
  }
  function say(id, text, isError) {
    const el = document.getElementById(id);
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("error", !!isError);
  }

  // ---------------------------------------------------------------- keys
  function lock(boxSecret, signSeed, passphrase) {
    const salt = S.randombytes_buf(S.crypto_pwhash_SALTBYTES);
    const ops = S.crypto_pwhash_OPSLIMIT_INTERACTIVE, mem = S.crypto_pwhash_MEMLIMIT_INTERACTIVE;
    const key = S.crypto_pwhash(32, passphrase, salt, ops, mem, S.crypto_pwhash_ALG_ARGON2ID13);
    const nonce = S.randombytes_buf(S.crypto_secretbox_NONCEBYTES);
    const sealed = S.crypto_secretbox_easy(concat(boxSecret, signSeed), nonce, key);
    return { kdf: "argon2id13", opslimit: ops, memlimit: mem, salt: b64(salt), nonce: b64(nonce), ciphertext: b64(sealed) };
  }
  function unlock(locked, passphrase) {
    const key = S.crypto_pwhash(32, passphrase, unb64(locked.salt), locked.opslimit, locked.memlimit,
      S.crypto_pwhash_ALG_ARGON2ID13);
    let secret;
    try {
      secret = S.crypto_secretbox_open_easy(unb64(locked.ciphertext), unb64(locked.nonce), key);
    } catch (e) {
      throw new Error("wrong passphrase: the private key did not unlock");
    }
    return secret;
  }
  function pairOf(secret) {
    const boxSecret = secret.slice(0, 32), seed = secret.slice(32, 64);
    const sign = S.crypto_sign_seed_keypair(seed);
    return { boxSecret, boxPublic: S.crypto_scalarmult_base(boxSecret), signSecret: sign.privateKey,
             signPublic: sign.publicKey, secret };
  }
  async function generateKeys(username, passphrase, rotate) {
    const box = S.crypto_box_keypair();
    const seed = S.randombytes_buf(32);
    const sign = S.crypto_sign_seed_keypair(seed);
    const claim = JSON.stringify([VERSION, "key", username, b64(sign.publicKey), b64(box.publicKey)]);
    const body = {
      box_public: b64(box.publicKey), sign_public: b64(sign.publicKey),
      self_signature: b64(S.crypto_sign_detached(enc.encode(claim), sign.privateKey)),
      locked: lock(box.privateKey, seed, passphrase),
    };
    const published = await api("POST", "/keys" + (rotate ? "?rotate=true" : ""), body);
    remember({ [published.id]: b64(concat(box.privateKey, seed)) });
    return published;
  }
  function remember(keys) {
    const known = JSON.parse(sessionStorage.getItem(STORE) || "{}");
    sessionStorage.setItem(STORE, JSON.stringify(Object.assign(known, keys)));
  }
  function unlocked() {
    const known = JSON.parse(sessionStorage.getItem(STORE) || "{}");
    const out = {};
    for (const id in known) out[id] = pairOf(unb64(known[id]));
    return out;
  }
  async function unlockAll(passphrase) {
    const mine = await api("GET", "/keys/me");
    if (!mine.length) throw new Error("you have no keys yet: create them first");
    const found = {};
    for (const k of mine) found[k.id] = b64(unlock(k.locked, passphrase));
    remember(found);
    return mine;
  }

  // ---------------------------------------------------------------- messages
  function signedBytes(head, copy) {
    const digest = S.to_hex(S.crypto_hash_sha256(unb64(copy.ciphertext)));
    return enc.encode(JSON.stringify([
      VERSION, head.id, head.conversation_id, head.sender, head.sender_key, head.marking, !!head.urgent,
      head.kind || "message", head.attachment_sha256 || "", copy.recipient, copy.recipient_key, copy.nonce, digest,
    ]));
  }
  function uuid() {
    const b = S.randombytes_buf(16);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = S.to_hex(b);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  async function seal(me, conversation, marking, text, urgent, file) {
    const keys = unlocked();
    const mine = me.keys.find((k) => !k.revoked_at && keys[k.id]);
    if (!mine) throw new Error("unlock your key first");
    const pair = keys[mine.id];
    const found = await api("GET", `/conversations/${conversation}/recipients?marking=${encodeURIComponent(marking)}`);
    const head = { id: uuid(), conversation_id: conversation, sender: me.user, sender_key: mine.fingerprint, marking,
                   urgent, kind: "message" };
    const inner = { text };
    if (file) {
      const data = new Uint8Array(await file.arrayBuffer());
      const key = S.crypto_secretbox_keygen(), nonce = S.randombytes_buf(24);
      const sealed = S.crypto_secretbox_easy(data, nonce, key);
      head.attachment = { nonce: b64(nonce), ciphertext: b64(sealed) };
      head.attachment_sha256 = S.to_hex(S.crypto_hash_sha256(sealed));
      inner.attachment_name = file.name;
      inner.attachment_key = b64(key);
    }
    const plain = enc.encode(JSON.stringify(inner));
    head.copies = found.recipients
      .filter((r) => r.may_read && r.key_id && r.username !== me.user)
      .map((r) => {
        const nonce = S.randombytes_buf(24);
        const copy = { recipient: r.username, recipient_key: r.fingerprint, nonce: b64(nonce),
                       ciphertext: b64(S.crypto_box_easy(plain, nonce, unb64(r.box_public), pair.boxSecret)) };
        copy.signature = b64(S.crypto_sign_detached(signedBytes(head, copy), pair.signSecret));
        return copy;
      });
    const skipped = found.recipients.filter((r) => r.username !== me.user && !(r.may_read && r.key_id));
    await api("POST", "/messages", head);
    return { head, skipped };
  }
  const senderKeys = {};
  async function senderKey(id) {
    if (!senderKeys[id]) senderKeys[id] = await api("GET", `/key-ids/${id}`);
    return senderKeys[id];
  }
  async function open(item) {
    const copy = item.copy;
    const keys = unlocked();
    const pair = keys[copy.recipient_key_id];
    if (!pair) throw new Error("sealed to a key you have not unlocked");
    const sender = await senderKey(item.sender_key_id);
    const mine = await senderKey(copy.recipient_key_id);
    const head = { id: item.id, conversation_id: item.conversation_id, sender: item.sender, sender_key: sender.fingerprint,
                   marking: item.marking, urgent: item.urgent, kind: item.kind, attachment_sha256: item.attachment_sha256 };
    const signed = Object.assign({}, copy, { recipient_key: mine.fingerprint });
    if (!S.crypto_sign_verify_detached(unb64(copy.signature), signedBytes(head, signed), unb64(sender.sign_public))) {
      throw new Error("the signature does not verify: tampered, or not from " + item.sender);
    }
    const plain = S.crypto_box_open_easy(unb64(copy.ciphertext), unb64(copy.nonce), unb64(sender.box_public), pair.boxSecret);
    return JSON.parse(dec.decode(plain));
  }

  // ---------------------------------------------------------------- the page
  function row(item, text, note) {
    const li = document.createElement("li");
    li.className = "message" + (item.urgent ? " urgent" : "");
    li.dataset.id = item.id;
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = `${item.sent_at.slice(0, 19).replace("T", " ")} · ${item.sender} · ${item.marking}` +
      (item.urgent ? " · URGENT" : "") + (item.kind === "check" ? " · communications check" : "");
    const body = document.createElement("div");
    body.className = "text";
    body.textContent = text;
    li.append(meta, body);
    if (note) {
      const n = document.createElement("div");
      n.className = "muted";
      n.textContent = note;
      li.append(n);
    }
    if (item.attachmentKey) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `Save ${item.attachmentName}`;
      button.addEventListener("click", async () => {
        try {
          const att = await api("GET", `/messages/${item.id}/attachment`);
          const data = S.crypto_secretbox_open_easy(unb64(att.ciphertext), unb64(att.nonce), unb64(item.attachmentKey));
          const link = document.createElement("a");
          link.href = URL.createObjectURL(new Blob([data]));
          link.download = item.attachmentName;
          link.click();
          URL.revokeObjectURL(link.href);
        } catch (e) { say("channel-status", "the attachment did not open: " + e.message, true); }
      });
      li.append(button);
    }
    if (item.copy && (item.urgent || item.kind === "check") && !item.copy.acked_at) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Acknowledge";
      button.addEventListener("click", async () => {
        try {
          await api("POST", `/messages/${item.id}/ack`);
          button.replaceWith(Object.assign(document.createElement("span"), { textContent: "acknowledged" }));
        } catch (e) { say("channel-status", e.message, true); }
      });
      li.append(button);
    }
    return li;
  }
  async function show(list, item) {
    if (list.querySelector(`[data-id="${item.id}"]`)) return;
    let text = "", note = "";
    if (item.kind === "check") text = "Communications check: please acknowledge.";
    else if (!item.copy) text = "(sent by you: sealed for its recipients only)";
    else {
      try {
        const inner = await open(item);
        text = inner.text;
        if (inner.attachment_name) {
          note = `attachment: ${inner.attachment_name} (${item.attachment_size} bytes)`;
          item.attachmentKey = inner.attachment_key;
          item.attachmentName = inner.attachment_name;
        }
        api("POST", `/messages/${item.id}/read`).catch(() => {});
      } catch (e) { text = "(cannot open: " + e.message + ")"; }
    }
    list.append(row(item, text, note));
  }
  async function conversationPage(root) {
    const me = { user: root.dataset.user, keys: await api("GET", "/keys/me") };
    const conversation = root.dataset.conversation;
    const list = document.getElementById("messages");
    const unlockForm = document.getElementById("unlock-form");
    const compose = document.getElementById("compose-form");
    async function refresh() {
      const items = await api("GET", `/conversations/${conversation}/messages`);
      for (const item of items) await show(list, item);
    }
    function ready() {
      const have = unlocked();
      return me.keys.some((k) => !k.revoked_at && have[k.id]);
    }
    function state() {
      const open = ready();
      unlockForm.hidden = open;
      compose.hidden = !open;
      say("key-state", open ? "Your key is unlocked in this tab." : "Unlock your key to read and send.");
    }
    unlockForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      say("channel-status", "Unlocking…");
      try {
        await unlockAll(document.getElementById("passphrase").value);
        document.getElementById("passphrase").value = "";
        say("channel-status", "");
        state();
        list.replaceChildren();
        await refresh();
      } catch (e) { say("channel-status", e.message, true); }
    });
    compose.addEventListener("submit", async (event) => {
      event.preventDefault();
      const field = document.getElementById("message-text");
      const file = document.getElementById("message-file");
      say("channel-status", "Sealing and sending…");
      try {
        const { skipped } = await seal(me, conversation, document.getElementById("message-marking").value,
          field.value, document.getElementById("message-urgent").checked, file && file.files[0]);
        field.value = "";
        if (file) file.value = "";
        say("channel-status", skipped.length ? "Sent; not addressed: " +
          skipped.map((r) => `${r.username} (${r.may_read ? "no key" : r.reason})`).join("; ") : "Sent.");
        await refresh();
      } catch (e) { say("channel-status", e.message, true); }
    });
    document.getElementById("lock-button").addEventListener("click", () => {
      sessionStorage.removeItem(STORE);
      list.replaceChildren();
      state();
      refresh();
    });
    state();
    await refresh();
    const events = new EventSource(`${API}/events`);
    for (const name of ["message", "escalation", "check"]) {
      events.addEventListener(name, (e) => {
        const item = JSON.parse(e.data);
        if (item.conversation_id === conversation) show(list, item);
      });
    }
    for (const name of ["ack", "unanswered"]) {
      events.addEventListener(name, (e) => {
        const data = JSON.parse(e.data);
        say("channel-status", name === "ack" ? `Acknowledged by ${data.by}.` : `Unanswered: ${data.hotline}.`);
      });
    }
    root.dataset.live = "yes";
  }
  function keysPage(root) {
    const form = document.getElementById("keys-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const one = document.getElementById("new-passphrase").value;
      if (one !== document.getElementById("new-passphrase-again").value) {
        say("keys-status", "The two passphrases differ.", true);
        return;
      }
      if (one.length < 8) { say("keys-status", "A passphrase needs at least 8 characters.", true); return; }
      say("keys-status", "Generating and locking your keys (a few seconds)…");
      try {
        const key = await generateKeys(root.dataset.user, one, root.dataset.rotate === "yes");
        say("keys-status", "Published. Your fingerprint: " + key.fingerprint);
        document.getElementById("my-fingerprint").textContent = key.fingerprint;
      } catch (e) { say("keys-status", e.message, true); }
    });
  }
  async function start() {
    await window.sodium.ready;
    S = window.sodium;
    const root = document.getElementById("channel-app");
    if (!root) return;
    if (root.dataset.page === "conversation") await conversationPage(root);
    if (root.dataset.page === "keys") keysPage(root);
    root.dataset.ready = "yes";
  }
  window.detenteChannels = { fingerprint };
  document.addEventListener("DOMContentLoaded", () => { start().catch((e) => say("channel-status", e.message, true)); });
})();
