// ZeroAuth's passkey forms. Inlined in the pages under a CSP hash: no
// external resources, no eval, no inline handlers.
//
// <form data-passkey="get"> or <form data-passkey="create">, with
// data-options (the options URL), a hidden <input name="credential"> and an
// element [data-passkey-error]: on submit the form's fields are posted to
// data-options, which answers {"publicKey": {...}} (binary fields base64url
// without padding); the browser is asked for a passkey with those options;
// the credential's JSON (PublicKeyCredential.toJSON()) goes into the hidden
// input and the form is submitted. A form with data-passkey-autofill also
// offers the browser's passkeys in its autofill (conditional mediation) from
// the moment the page loads; using a passkey form's button cancels that
// offer first.
(() => {
  'use strict';

  const SAY = {
    unsupported: 'This browser cannot use passkeys. Sign in another way, or try another browser.',
    cancelled: 'No passkey was used: the request was cancelled or timed out. Try again.',
    exists: 'This device already has a passkey for this account.',
    insecure: 'Passkeys cannot be used on this address.',
    busy: 'Too many attempts. Wait a minute, then try again.',
    unavailable: 'Passkeys are unavailable right now. Try again, or sign in another way.',
    failed: 'The passkey could not be used. Try again, or sign in another way.',
  };

  class Failure extends Error {
    constructor(key) {
      super(key);
      this.key = key;
    }
  }

  const supported = () =>
    typeof window.PublicKeyCredential === 'function' &&
    !!navigator.credentials &&
    typeof navigator.credentials.get === 'function';

  const fromBase64url = (text) => {
    const b64 = String(text).replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  };

  const toBase64url = (buffer) => {
    const bytes = new Uint8Array(buffer);
    let binary = '';
    for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };

  const withIds = (list) => (list || []).map((c) => ({ ...c, id: fromBase64url(c.id) }));

  const creationOptions = (json) => {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function') {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return {
      ...json,
      challenge: fromBase64url(json.challenge),
      user: { ...json.user, id: fromBase64url(json.user.id) },
      excludeCredentials: withIds(json.excludeCredentials),
    };
  };

  const requestOptions = (json) => {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function') {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return {
      ...json,
      challenge: fromBase64url(json.challenge),
      allowCredentials: withIds(json.allowCredentials),
    };
  };

  // The credential as toJSON() writes it, by hand where the browser lacks it.
  const credentialJSON = (cred) => {
    if (typeof cred.toJSON === 'function') {
      try {
        return JSON.stringify(cred.toJSON());
      } catch (err) {
        // Some browsers' toJSON() fails on extension results: encode by hand.
      }
    }
    const r = cred.response;
    const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toBase64url(r.attestationObject);
      if (typeof r.getTransports === 'function') response.transports = r.getTransports();
    } else {
      response.authenticatorData = toBase64url(r.authenticatorData);
      response.signature = toBase64url(r.signature);
      if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
    }
    return JSON.stringify({
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      response,
      clientExtensionResults: cred.getClientExtensionResults(),
    });
  };

  // The form's fields, posted to its options URL: the options' publicKey.
  const fetchOptions = async (form, signal) => {
    const url = form.getAttribute('data-options');
    if (!url) throw new Failure('unavailable');
    const answer = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      body: new URLSearchParams(new FormData(form)),
      signal,
    });
    if (!answer.ok) throw new Failure(answer.status === 429 ? 'busy' : 'unavailable');
    const json = await answer.json().catch(() => null);
    if (!json || typeof json.publicKey !== 'object' || json.publicKey === null) {
      throw new Failure('unavailable');
    }
    return json.publicKey;
  };

  const say = (form, key) => {
    const place = form.querySelector('[data-passkey-error]');
    if (!place) return;
    place.textContent = key ? SAY[key] : '';
    place.hidden = !key;
  };

  const reason = (err, creating) => {
    if (err instanceof Failure) return err.key;
    switch (err && err.name) {
      case 'NotAllowedError':
      case 'AbortError':
        return 'cancelled';
      case 'InvalidStateError':
        return creating ? 'exists' : 'failed';
      case 'SecurityError':
        return 'insecure';
      case 'NotSupportedError':
        return 'unsupported';
      default:
        return 'failed';
    }
  };

  const submitWith = (form, cred) => {
    const input = form.querySelector('input[name="credential"]');
    if (!input) throw new Failure('failed');
    input.value = credentialJSON(cred);
    HTMLFormElement.prototype.submit.call(form);
  };

  // The pending autofill request: { controller, settled } (settled never
  // rejects); how many forms are asking for a passkey themselves.
  let autofill = null;
  let asking = 0;
  const busy = new WeakSet();

  const startAutofill = async (form) => {
    if (autofill || asking || busy.has(form) || !supported()) return;
    let available = false;
    try {
      const check = PublicKeyCredential.isConditionalMediationAvailable;
      available = typeof check === 'function' && (await check.call(PublicKeyCredential)) === true;
    } catch (err) {
      available = false;
    }
    if (!available || autofill || asking) return;
    const controller = new AbortController();
    let settle = () => {};
    autofill = { controller, settled: new Promise((resolve) => (settle = resolve)) };
    try {
      const json = await fetchOptions(form, controller.signal);
      const cred = await navigator.credentials.get({
        publicKey: requestOptions(json),
        mediation: 'conditional',
        signal: controller.signal,
      });
      if (cred && !controller.signal.aborted && !asking && !busy.has(form)) {
        busy.add(form);
        submitWith(form, cred);
      }
    } catch (err) {
      // An autofill offer that ends (cancelled, aborted, refused) says
      // nothing: the passkey button is still there.
    } finally {
      autofill = null;
      settle();
    }
  };

  const restartAutofill = () => {
    const form = document.querySelector('form[data-passkey-autofill]');
    if (form) startAutofill(form);
  };

  const onSubmit = async (event) => {
    const form = event.currentTarget;
    event.preventDefault();
    if (busy.has(form)) return;
    busy.add(form);
    asking += 1;
    say(form, null);
    const creating = form.getAttribute('data-passkey') === 'create';
    let submitted = false;
    try {
      if (!supported()) throw new Failure('unsupported');
      if (autofill) {
        // One WebAuthn request at a time: the autofill offer goes first.
        autofill.controller.abort();
        await autofill.settled;
      }
      const json = await fetchOptions(form);
      const cred = creating
        ? await navigator.credentials.create({ publicKey: creationOptions(json) })
        : await navigator.credentials.get({ publicKey: requestOptions(json) });
      if (!cred) throw new Failure('cancelled');
      submitWith(form, cred);
      submitted = true;
    } catch (err) {
      say(form, reason(err, creating));
    } finally {
      asking -= 1;
      if (!submitted) {
        busy.delete(form);
        restartAutofill();
      }
    }
  };

  const init = () => {
    document
      .querySelectorAll('form[data-passkey="get"], form[data-passkey="create"]')
      .forEach((form) => form.addEventListener('submit', onSubmit));
    restartAutofill();
  };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
