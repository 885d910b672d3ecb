// awf board: live updates over Server-Sent Events and decisions without a page load.
// The page works without this file: forms post and the server answers with the page.
(() => {
  "use strict";
  const main = document.getElementById("main");
  const notice = document.getElementById("notice");
  const status = document.getElementById("live-status");
  if (!main) return;
  let timer = null;
  let pending = false;
  let last = 0;
  let opened = false;

  const editing = () => {
    const el = document.activeElement;
    return el && main.contains(el) && /^(INPUT|TEXTAREA)$/.test(el.tagName) && el.value !== "";
  };

  async function refresh() {
    timer = null;
    if (editing()) { pending = true; return; }
    last = Date.now();
    const url = new URL(location.href);
    url.searchParams.set("fragment", "1");
    const response = await fetch(url, { headers: { Accept: "text/html" }, cache: "no-store" });
    if (response.redirected || response.status === 401) { location.reload(); return; }
    if (!response.ok) return;
    main.innerHTML = await response.text();
    main.dataset.refreshed = String(Number(main.dataset.refreshed || 0) + 1);
  }

  function schedule() {
    if (timer) return;
    timer = setTimeout(refresh, Math.max(100, 400 - (Date.now() - last)));
  }

  function describe(event) {
    const move = event.to && event.from !== event.to ? `: ${event.from} → ${event.to}` : "";
    const phase = event.payload && event.payload.phase ? ` ${event.payload.phase}` : "";
    return `${event.command}${phase}${move}`;
  }

  function listen(url) {
    const source = new EventSource(url);
    source.addEventListener("timeline", (message) => {
      const event = JSON.parse(message.data);
      main.dataset.lastEvent = event.id;
      if (event.command !== "tool") status.textContent = describe(event);
      schedule();
    });
    source.addEventListener("reset", () => location.reload());
    source.addEventListener("open", () => {
      document.body.dataset.live = "on";
      if (opened) schedule(); // back after a drop: the stream resumed, the page catches up too
      opened = true;
    });
    source.addEventListener("error", () => { document.body.dataset.live = "off"; });
  }

  main.addEventListener("focusout", () => {
    if (pending) { pending = false; setTimeout(schedule, 0); }
  });

  main.addEventListener("submit", async (submitted) => {
    const form = submitted.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-decide")) return;
    submitted.preventDefault();
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    let body;
    let ok = false;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "application/json" },
      });
      body = await response.json().catch(() => ({ message: `HTTP ${response.status}` }));
      ok = response.ok && body.ok;
    } catch (error) {
      body = { message: `The board could not be reached: ${error}` };
    }
    notice.textContent = body.message;
    notice.className = `notice ${ok ? "ok" : "refused"}`;
    const input = form.querySelector("input[name=reason]");
    if (input) input.value = "";
    if (document.activeElement) document.activeElement.blur();
    refresh();
  });

  if (main.dataset.events) listen(main.dataset.events);
})();
