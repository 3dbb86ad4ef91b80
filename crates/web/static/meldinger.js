// Fortrolig: live updates on the patient's messages (issue 4 item 6). The server says only
// which thread has something new; this script then fetches the page again (never cached)
// and swaps in its list. Nothing is kept in the browser: no storage, no cache (P2).
// The page works the same without this script, by reloading.
(() => {
  'use strict';
  // The page's language (issue 4 item 9): its few words in English when the page is.
  const english = document.documentElement.lang === 'en';
  const words = (nb, en) => (english ? en : nb);
  // A file over the limit is refused before it is sent, so nothing typed is lost to an
  // upload the server must cut off. The server checks again regardless.
  for (const input of document.querySelectorAll('input[type=file][data-hoyst]')) {
    const most = Number(input.getAttribute('data-hoyst'));
    input.addEventListener('change', () => {
      const file = input.files && input.files[0];
      input.setCustomValidity(file && file.size > most ? words('Filen er for stor (høyst 10 MB).', 'The file is too large (10 MB at most).') : '');
      input.reportValidity();
    });
  }

  const region = document.querySelector('[data-strom]');
  if (!region || !('EventSource' in window) || !region.id) {
    return;
  }
  const thread = region.getAttribute('data-samtale');
  const status = document.getElementById('direkte-status');
  let waiting = false;
  let busy = false;

  const say = (text) => {
    if (status) {
      status.textContent = text;
    }
  };

  const source = new EventSource(region.getAttribute('data-strom'));

  const refresh = async () => {
    // Opening a thread marks the clinic's messages read: only while the patient can see it.
    if (document.visibilityState !== 'visible' || busy) {
      waiting = true;
      return;
    }
    waiting = false;
    busy = true;
    try {
      const response = await fetch(window.location.pathname, {
        cache: 'no-store',
        credentials: 'same-origin',
        redirect: 'manual',
      });
      if (!response.ok) {
        // Logged out or expired: stop listening; the page says what to do on reload.
        source.close();
        say(words('Økten er avsluttet. Last inn siden på nytt for å logge inn.',
          'You have been logged out. Reload the page to log in again.'));
        return;
      }
      const fresh = new DOMParser()
        .parseFromString(await response.text(), 'text/html')
        .getElementById(region.id);
      if (fresh) {
        region.replaceChildren(...Array.from(fresh.childNodes, (n) => document.importNode(n, true)));
        say(thread
          ? words('Samtalen er oppdatert.', 'The conversation has been updated.')
          : words('Innboksen er oppdatert.', 'Your inbox has been updated.'));
      }
    } catch (_) {
      // The network failed: the next event tries again.
    } finally {
      busy = false;
      if (waiting) {
        refresh();
      }
    }
  };

  source.addEventListener('samtale', (event) => {
    if (!thread || event.data === thread || event.data === 'alle') {
      refresh();
    }
  });
  // What happened between rendering the page and the stream connecting sent no event to
  // this page: look once when it connects.
  source.addEventListener('open', () => refresh());
  // The session would have run out without activity: do not keep it alive by reconnecting.
  source.addEventListener('slutt', () => source.close());
  document.addEventListener('visibilitychange', () => {
    if (waiting && document.visibilityState === 'visible') {
      refresh();
    }
  });
})();
