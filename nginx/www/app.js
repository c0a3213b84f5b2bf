// The landing page's behaviour (index.html): sends the sentence to POST /predict and shows the
// answer, or a plain sentence for each error. Plain browser JavaScript, no library, no build
// step; served with `script-src 'self'`, so nothing here may rely on inline code or eval.
'use strict';

(function () {
  const form = document.getElementById('predict-form');
  const userInput = document.getElementById('user');
  const passwordInput = document.getElementById('password');
  const sentenceInput = document.getElementById('sentence');
  const message = document.getElementById('message');
  const result = document.getElementById('result');

  // Longer than the gateway's own budget (3 tries in 5 s, then a second round), so the
  // gateway's 503 arrives before this gives up.
  const TIMEOUT_MS = 15000;

  let inFlight = null;

  // Basic auth carries UTF-8 bytes; btoa alone only takes Latin-1 and throws on anything else.
  function basicAuth(user, password) {
    const bytes = new TextEncoder().encode(user + ':' + password);
    let binary = '';
    bytes.forEach(function (b) { binary += String.fromCharCode(b); });
    return 'Basic ' + btoa(binary);
  }

  function selectedGroup() {
    const checked = form.querySelector('input[name="group"]:checked');
    return checked ? checked.value : '';
  }

  function percent(p) {
    return (p * 100).toFixed(1) + ' %';
  }

  function showMessage(text, kind) {
    message.textContent = text;
    message.className = 'message' + (kind ? ' ' + kind : '');
    // On a phone the answer appears below the fold: bring it into view (no-op when visible).
    if (kind === 'ok' || kind === 'error') message.scrollIntoView({ block: 'nearest' });
  }

  function seconds(retryAfter) {
    const n = Number.parseInt(retryAfter || '', 10);
    if (!Number.isFinite(n) || n < 0) return 'a moment';
    return n === 1 ? '1 second' : n + ' seconds';
  }

  // Every status the gateway or the API can answer this page with, as a sentence a person can act
  // on. The JSON error body ({"error": {"code", "message"}}) only refines the sentence.
  function errorSentence(status, body, headers, group) {
    const error = body && typeof body === 'object' && body.error ? body.error : {};
    const code = typeof error.code === 'string' ? error.code : '';
    const detail = typeof error.message === 'string' ? error.message : '';
    const variant = group === 'debug' ? 'v2 (debug)' : 'v1 (default)';
    switch (status) {
      case 401:
        return 'The gateway did not accept this username and password. Check them and try again.';
      case 429:
        return 'Too many requests from this address: the gateway\'s rate limit was reached. Try again in ' +
          seconds(headers.get('Retry-After')) + '.';
      case 413:
        return 'The text is too large for the gateway (a request may carry at most 64 KiB). Shorten it and try again.';
      case 422: {
        if (code === 'empty_sentence') {
          return 'The sentence is empty: type at least one letter, digit or symbol.';
        }
        const long = /has (\d+) characters; the limit is (\d+)/.exec(detail);
        if (code === 'text_too_long' && long) {
          return 'The sentence is too long: it has ' + long[1] + ' characters, and the limit is ' + long[2] + '.';
        }
        return 'The classifier could not use this text' + (detail ? ': ' + detail + '.' : '.');
      }
      case 503:
        if (code === 'not_ready') {
          return 'No replica of variant ' + variant + ' can answer right now. Try again in ' +
            seconds(headers.get('Retry-After')) + '.';
        }
        return 'The service is unavailable right now. Try again in ' + seconds(headers.get('Retry-After')) + '.';
      default:
        return 'The gateway answered with an unexpected status, ' + status + (code ? ' (' + code + ')' : '') + '.';
    }
  }

  function setText(id, text) {
    document.getElementById(id).textContent = text;
  }

  function showRow(id, text) {
    const row = document.getElementById(id + '-row');
    row.hidden = text === null;
    if (text !== null) setText(id, text);
  }

  function renderBars(probabilities, top) {
    const list = document.getElementById('bars');
    const entries = Object.keys(probabilities)
      .map(function (label) { return [label, Number(probabilities[label])]; })
      .sort(function (a, b) { return b[1] - a[1]; });
    list.replaceChildren();
    entries.forEach(function (entry) {
      const item = document.createElement('li');
      item.className = 'bar' + (entry[0] === top ? ' top' : '');
      const name = document.createElement('span');
      name.className = 'bar-label';
      name.textContent = entry[0];
      const track = document.createElement('span');
      track.className = 'bar-track';
      track.setAttribute('aria-hidden', 'true');
      const fill = document.createElement('span');
      fill.className = 'bar-fill';
      // A CSSOM property, not a style attribute: allowed by `style-src 'self'`.
      fill.style.width = Math.max(0, Math.min(1, entry[1])) * 100 + '%';
      track.appendChild(fill);
      const value = document.createElement('span');
      value.className = 'bar-value';
      value.textContent = percent(entry[1]);
      item.append(name, track, value);
      list.appendChild(item);
    });
    return entries.length;
  }

  function showResult(body, headers) {
    const variant = headers.get('X-Model-Variant') || 'unknown';
    const debug = body.debug && typeof body.debug === 'object' ? body.debug : null;
    const instance = headers.get('X-Instance') || (debug && debug.instance) || 'unknown';
    setText('emotion', body.emotion);
    setText('confidence', typeof body.confidence === 'number' ? percent(body.confidence) + ' confidence' : '');
    setText('variant', variant);
    setText('instance', instance);
    setText('model-version', body.model_version || 'unknown');
    showRow('timing', debug && typeof debug.inference_us === 'number' ? debug.inference_us + ' µs in the replica' : null);
    showRow('tokens', debug && Array.isArray(debug.tokens) ? (debug.tokens.join(' · ') || '(none)') : null);

    const chart = document.getElementById('chart');
    const note = document.getElementById('no-probabilities');
    let count = 0;
    if (body.probabilities && typeof body.probabilities === 'object') {
      count = renderBars(body.probabilities, body.emotion);
    }
    chart.hidden = count === 0;
    note.hidden = count !== 0;
    result.hidden = false;
    showMessage('Predicted emotion: ' + body.emotion + ', answered by variant ' + variant +
      ' (instance ' + instance + ')' + (count ? ', with ' + count + ' probabilities.' : '.'), 'ok');
  }

  async function submit(event) {
    event.preventDefault();
    const user = userInput.value;
    const password = passwordInput.value;
    if (!user || !password) {
      // Sending without credentials would only earn a 401: say what is missing instead.
      result.hidden = true;
      showMessage('Enter the username and password first: every prediction needs them.', 'error');
      (user ? passwordInput : userInput).focus();
      return;
    }
    const group = selectedGroup();
    const headers = {
      'Content-Type': 'application/json',
      'Accept': 'application/json',
      'Authorization': basicAuth(user, password),
    };
    if (group) headers['X-Experiment-Group'] = group;

    // A new submission replaces the one still waiting, so the answer shown is always the last asked.
    if (inFlight) inFlight.abort();
    const controller = new AbortController();
    inFlight = controller;
    let timedOut = false;
    const timer = setTimeout(function () { timedOut = true; controller.abort(); }, TIMEOUT_MS);
    result.setAttribute('aria-busy', 'true');
    showMessage('Classifying…', 'busy');

    let response;
    let body = null;
    try {
      // credentials: 'omit' keeps the browser's own login prompt out of the way: with fetch's
      // default ('same-origin') Chromium 156 never hands a 401 carrying WWW-Authenticate back
      // to the page, even though this Authorization header was sent (the fetch stays pending,
      // headed and headless; nginx/README.md). With 'omit' the 401 arrives and is explained.
      response = await fetch('/predict', {
        method: 'POST',
        headers: headers,
        body: JSON.stringify({ sentence: sentenceInput.value }),
        credentials: 'omit',
        cache: 'no-store',
        signal: controller.signal,
      });
      const text = await response.text();
      try { body = JSON.parse(text); } catch (e) { body = null; }
    } catch (err) {
      if (inFlight !== controller) return; // replaced by a newer submission
      result.hidden = true;
      showMessage(timedOut
        ? 'The gateway did not answer within ' + TIMEOUT_MS / 1000 + ' seconds. Try again.'
        : 'The gateway could not be reached (network error). Check that the stack is running and try again.', 'error');
      return;
    } finally {
      clearTimeout(timer);
      if (inFlight === controller) {
        inFlight = null;
        result.removeAttribute('aria-busy');
      }
    }
    if (controller.signal.aborted && !timedOut) return;

    if (response.ok && body && typeof body.emotion === 'string') {
      showResult(body, response.headers);
    } else {
      result.hidden = true;
      showMessage(response.ok
        ? 'The gateway answered, but not with a prediction this page understands.'
        : errorSentence(response.status, body, response.headers, group), 'error');
    }
  }

  form.addEventListener('submit', submit);
})();
