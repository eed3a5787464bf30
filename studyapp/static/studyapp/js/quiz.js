// Taking a timed quiz: countdown from the server's remaining time, autosave of every
// answer as it changes (kept in localStorage until the server has it, retried when the
// connection drops), a warning at one minute, and self-submission when time is up.
(function () {
  "use strict";
  const form = document.getElementById("quiz-form");
  const timer = document.getElementById("timer");
  if (!form || !timer) return;

  const saveUrl = form.dataset.saveUrl;
  const reviewUrl = form.dataset.reviewUrl;
  const storeKey = "quiz-pending:" + form.dataset.attempt;
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const state = document.getElementById("save-state");
  const warning = document.getElementById("time-warning");
  const lang = document.documentElement.lang || "en";
  const zh = lang.startsWith("zh");
  const text = {
    saving: zh ? "正在保存…" : "Saving…",
    saved: zh ? "已保存" : "Saved",
    offline: zh ? "连接中断，答案已暂存在本机，正在重试…" : "Connection lost: answers kept on this device, retrying…",
    signedOut: zh ? "登录已失效：答案暂存在本机，请在新标签页重新登录。" : "Signed out: answers are kept on this device; sign in again in a new tab.",
    submitting: zh ? "时间到，正在提交…" : "Time is up: submitting…",
  };

  // Seconds left, from the server; performance.now() is immune to changes of the wall clock.
  let endsAt = performance.now() + parseFloat(timer.dataset.remaining) * 1000;
  let counter = 0;
  let closed = false;
  let submitting = false;
  let pending = {};
  try { pending = JSON.parse(localStorage.getItem(storeKey) || "{}"); } catch (e) { pending = {}; }
  const inflight = new Set();
  const timers = {};
  let retryDelay = 1000;

  function persist() {
    try { localStorage.setItem(storeKey, JSON.stringify(pending)); } catch (e) { /* private mode */ }
  }

  function nextSeq() {  // increases across reloads: newer saves always win on the server
    counter = (counter + 1) % 1000;
    return Date.now() * 1000 + counter;
  }

  function fieldValue(position) {
    const inputs = form.querySelectorAll('[name="answer-' + position + '"]');
    const picked = [];
    for (const input of inputs) {
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) picked.push(input.value);
      } else if (input.type !== "hidden") {
        return input.value;
      }
    }
    return picked.join(",");
  }

  function setFieldValue(position, value) {
    const chosen = value.split(",");
    for (const input of form.querySelectorAll('[name="answer-' + position + '"]')) {
      if (input.type === "radio" || input.type === "checkbox") input.checked = chosen.includes(input.value);
      else if (input.type !== "hidden") input.value = value;
    }
  }

  function show(message) { if (state) state.textContent = message; }

  function showProblem(position, problem) {
    const el = document.getElementById("problem-" + position);
    if (el) el.textContent = problem || "";
  }

  async function send(position) {
    const entry = pending[position];
    if (!entry || closed || inflight.has(position)) return;
    inflight.add(position);
    show(text.saving);
    const body = new FormData();
    body.append("position", position);
    body.append("text", entry.text);
    body.append("seq", entry.seq);
    try {
      const response = await fetch(saveUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
      });
      if (response.redirected || !(response.headers.get("Content-Type") || "").includes("json")) {
        show(text.signedOut);  // e.g. the session expired and we were sent to the sign-in page
        throw new Error("not a save response");
      }
      const data = await response.json().catch(() => ({}));
      if (response.status === 409 && data.closed) {
        closed = true;
        show(data.error || "");
        window.location.assign(reviewUrl);
        return;
      }
      if (!response.ok) {
        if (response.status === 400) {  // a reason, not a transient failure: do not retry
          delete pending[position]; persist(); show(data.error || ""); return;
        }
        throw new Error("HTTP " + response.status);
      }
      if (pending[position] && pending[position].seq === entry.seq) {
        delete pending[position];
        persist();
      }
      showProblem(position, data.problem);
      if (typeof data.remaining === "number") endsAt = performance.now() + data.remaining * 1000;
      retryDelay = 1000;
      show(text.saved + " " + new Date().toLocaleTimeString());
    } catch (err) {
      if (!state || state.textContent !== text.signedOut) show(text.offline);
      setTimeout(flushAll, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    } finally {
      inflight.delete(position);
      if (pending[position] && pending[position].seq !== entry.seq) send(position);  // typed meanwhile
    }
  }

  function flushAll() { for (const position of Object.keys(pending)) send(position); }

  function queue(position, delay) {
    pending[position] = { text: fieldValue(position), seq: nextSeq() };
    persist();
    clearTimeout(timers[position]);
    timers[position] = setTimeout(() => send(position), delay);
  }

  function positionOf(target) {
    const match = /^answer-(\d+)$/.exec(target.name || "");
    return match ? match[1] : null;
  }

  form.addEventListener("input", (event) => {
    const position = positionOf(event.target);
    if (position !== null) queue(position, 600);
  });
  form.addEventListener("change", (event) => {
    const position = positionOf(event.target);
    if (position !== null) queue(position, 0);
  });

  // Answers typed before a tab was closed or the connection dropped: put them back and send them.
  for (const [position, entry] of Object.entries(pending)) {
    if (form.querySelector('[name="answer-' + position + '"]')) setFieldValue(position, entry.text);
    send(position);
  }

  function waitForSaves(limitMs) {
    const started = performance.now();
    return new Promise((resolve) => {
      (function check() {
        if (!Object.keys(pending).length || performance.now() - started > limitMs) resolve();
        else setTimeout(check, 100);
      })();
    });
  }

  async function submitNow(auto) {
    if (submitting) return;
    submitting = true;
    if (auto) {
      form.querySelector("#confirm").value = "1";
      show(text.submitting);
    }
    flushAll();
    await waitForSaves(3000);
    for (const position of Object.keys(pending)) delete pending[position];
    persist();
    form.submit();
  }

  form.addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.formAction && event.submitter.name === "go") return;
    event.preventDefault();
    submitNow(false);
  });

  function pad(n) { return String(n).padStart(2, "0"); }

  function tick() {
    const left = Math.max(0, (endsAt - performance.now()) / 1000);
    const whole = Math.ceil(left);
    const h = Math.floor(whole / 3600);
    const m = Math.floor((whole % 3600) / 60);
    timer.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(whole % 60);
    if (left <= 60 && warning && warning.hidden) {
      warning.hidden = false;
      timer.classList.add("urgent");
    }
    if (left <= 0) {
      submitNow(true);
      return;
    }
    setTimeout(tick, Math.min(250, left * 1000));
  }
  tick();
})();
