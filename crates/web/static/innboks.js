// Live updates for the staff inbox and an open thread (issue 4 item 6).
// The server's stream names only a thread; this script then fetches the page it is on
// again (never cached: every response is no-store) and swaps in the fresh list or
// messages. Nothing is kept in the browser. Without this script the pages still work;
// they are simply not updated until reloaded.
"use strict";

(function () {
  const live = document.getElementById("levende");
  if (!live || !window.EventSource || !window.fetch || !window.DOMParser) return;
  const thread = live.dataset.samtale || "";
  const regionId = thread ? "meldinger" : "innboks-liste";
  let timer = null;

  async function refresh() {
    timer = null;
    try {
      const response = await fetch(window.location.pathname + window.location.search, {
        credentials: "same-origin",
        cache: "no-store",
        redirect: "manual",
      });
      if (!response.ok) return;
      const fresh = new DOMParser()
        .parseFromString(await response.text(), "text/html")
        .getElementById(regionId);
      const current = document.getElementById(regionId);
      if (fresh && current) current.replaceChildren(...fresh.childNodes);
    } catch (e) {
      // The next event tries again.
    }
  }

  function soon() {
    if (timer === null) timer = window.setTimeout(refresh, 200);
  }

  const source = new EventSource(live.dataset.strom);
  source.addEventListener("samtale", function (event) {
    if (!thread || event.data === thread) soon();
  });
  source.addEventListener("oppdater", soon);
  // Whatever happened between rendering the page and the stream connecting (a read
  // confirmation, say) sent no event to this page: look once when it connects.
  source.addEventListener("open", soon);
  // The session ended or went idle: stop listening (the next click logs in again).
  source.addEventListener("slutt", function () {
    source.close();
  });
})();
