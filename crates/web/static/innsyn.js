// Fortrolig: the innsyn page checks the audit log's proofs itself (P9, X3). For every row
// of the access log the server gave the entry's encoded leaf and its audit path; the page
// gave one signed tree head. Here, with WebCrypto only:
//   - the leaf is decoded and must hold what the row shows (number, time, actor, action,
//     outcome);
//   - leaf hash = SHA-256(0x00 || leaf), node = SHA-256(0x01 || left || right) (RFC 6962),
//     and the path must lead from the leaf to the signed root (RFC 9162 §2.1.3.2, the same
//     algorithm as the Rust verifier, fortrolig_audit::verify_inclusion);
//   - the head's Ed25519 signature over fortrolig/tree-head/v1 is checked where the browser
//     has Ed25519 in WebCrypto; otherwise the page says the server checked it.
// Nothing is stored and nothing is fetched. Without this script the page shows everything
// all the same. The texts come from the page (data-tekst-*), in the page's language.
(() => {
  'use strict';

  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  const enc = new TextEncoder();

  function fromBase64(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i += 1) out[i] = bin.charCodeAt(i);
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i += 1) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  async function sha256(bytes) {
    return new Uint8Array(await subtle.digest('SHA-256', bytes));
  }

  async function leafHash(data) {
    const b = new Uint8Array(data.length + 1);
    b[0] = 0;
    b.set(data, 1);
    return sha256(b);
  }

  async function nodeHash(left, right) {
    const b = new Uint8Array(65);
    b[0] = 1;
    b.set(left, 1);
    b.set(right, 33);
    return sha256(b);
  }

  /** RFC 9162 §2.1.3.2: does `path` prove `leaf` (a leaf hash) at `index` in the tree of `size` with `root`? */
  async function verifyInclusion(leaf, index, size, path, root) {
    let fn = BigInt(index);
    let sn = BigInt(size) - 1n;
    if (fn > sn) return false;
    let r = leaf;
    for (const p of path) {
      if (sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return sn === 0n && equal(r, root);
  }

  /** The fields of an encoded entry (fortrolig/audit/v1), or null when it is not one. */
  function decodeEntry(bytes) {
    const magic = enc.encode('fortrolig/audit/v1');
    if (bytes.length < magic.length + 16 || !equal(bytes.subarray(0, magic.length), magic)) return null;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const dec = new TextDecoder('utf-8', { fatal: true });
    let at = magic.length;
    const seq = view.getBigUint64(at); at += 8;
    const time = view.getBigInt64(at); at += 8;
    const str = () => {
      if (at + 4 > bytes.length) throw new Error('short');
      const n = view.getUint32(at); at += 4;
      if (at + n > bytes.length) throw new Error('short');
      const s = dec.decode(bytes.subarray(at, at + n)); at += n;
      return s;
    };
    const opt = () => {
      if (at >= bytes.length) throw new Error('short');
      const flag = bytes[at]; at += 1;
      if (flag === 0) return null;
      if (flag !== 1) throw new Error('flag');
      return str();
    };
    try {
      const entry = { seq, time, actorId: str(), actorRole: str(), actorClinic: str(), actorHpr: opt(), patient: opt() };
      entry.action = str();
      entry.object = str();
      entry.reason = str();
      entry.outcome = str();
      entry.sourceSession = opt();
      entry.sourceAddress = opt();
      return at === bytes.length ? entry : null;
    } catch {
      return null;
    }
  }

  /** The bytes a tree head's signature covers (fortrolig_audit::TreeHead::message). */
  function headMessage(clinic, size, root, signedAt) {
    const name = enc.encode(clinic);
    const magic = enc.encode('fortrolig/tree-head/v1');
    const out = new Uint8Array(magic.length + 4 + name.length + 8 + 32 + 8);
    const view = new DataView(out.buffer);
    let at = 0;
    out.set(magic, at); at += magic.length;
    view.setUint32(at, name.length); at += 4;
    out.set(name, at); at += name.length;
    view.setBigUint64(at, BigInt(size)); at += 8;
    out.set(root, at); at += 32;
    view.setBigInt64(at, BigInt(signedAt));
    return out;
  }

  /** true, false, or null when this browser has no Ed25519 in WebCrypto. */
  async function verifySignature(publicKey, message, signature) {
    let key;
    try {
      key = await subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
    } catch {
      return null;
    }
    try {
      return await subtle.verify({ name: 'Ed25519' }, key, signature, message);
    } catch {
      return false;
    }
  }

  /**
   * One row's proof: `row` = { leaf, path (base64), seq, time, actor, action, outcome }
   * as the page shows them; `head` = { size, root (bytes) }. True when the leaf holds what
   * the row shows and the path leads from it to the signed root.
   */
  async function verifyRow(row, head) {
    let leaf;
    let path;
    try {
      leaf = fromBase64(row.leaf);
      path = row.path ? row.path.split(',').map(fromBase64) : [];
    } catch {
      return false;
    }
    if (path.some((p) => p.length !== 32)) return false;
    const entry = decodeEntry(leaf);
    if (!entry) return false;
    if (String(entry.seq) !== String(row.seq) || String(entry.time) !== String(row.time)
      || entry.actorId !== row.actor || entry.action !== row.action || entry.outcome !== row.outcome) {
      return false;
    }
    return verifyInclusion(await leafHash(leaf), entry.seq - 1n, head.size, path, head.root);
  }

  globalThis.FortroligInnsyn = { verifyInclusion, verifyRow, decodeEntry, headMessage, verifySignature, leafHash, nodeHash };

  async function checkPage() {
    const section = document.getElementById('bevis');
    const table = document.getElementById('logg');
    const status = document.getElementById('bevis-status');
    if (!section || !table || !status) return;
    const t = (name) => section.getAttribute(`data-tekst-${name}`) || '';
    if (!subtle) {
      status.textContent = t('kan-ikke');
      return;
    }
    status.textContent = t('kontrollerer');
    let root;
    let head;
    try {
      root = fromBase64(section.dataset.rot);
      head = { size: section.dataset.storrelse, root };
    } catch {
      status.textContent = t('signatur-feil');
      return;
    }
    const rows = Array.from(table.querySelectorAll('tbody tr'));
    let bad = 0;
    for (const tr of rows) {
      const d = tr.dataset;
      const ok = await verifyRow({
        leaf: d.blad, path: d.sti, seq: d.nr, time: d.tid, actor: d.aktor, action: d.handling, outcome: d.utfall,
      }, head).catch(() => false);
      const cell = tr.querySelector('td.bevis');
      if (cell) {
        cell.textContent = ok ? t('ok') : t('feil');
        cell.classList.toggle('bevis-feil', !ok);
      }
      if (!ok) bad += 1;
    }
    let signature;
    try {
      signature = await verifySignature(
        fromBase64(section.dataset.nokkel),
        headMessage(section.dataset.klinikk, section.dataset.storrelse, root, section.dataset.signert),
        fromBase64(section.dataset.signatur),
      );
    } catch {
      signature = false;
    }
    const proofs = bad === 0
      ? t('alle-ok').replace('{n}', String(rows.length))
      : t('noen-feil').replace('{feil}', String(bad)).replace('{n}', String(rows.length));
    const signed = signature === null ? t('signatur-ukjent') : signature ? t('signatur-ok') : t('signatur-feil');
    status.textContent = `${proofs} ${signed}`;
    section.dataset.resultat = bad === 0 && signature !== false ? 'ok' : 'feil';
  }

  if (typeof document !== 'undefined') {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', checkPage);
    else checkPage();
  }
})();
