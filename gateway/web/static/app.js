// ht-gateway web UI: live today table (server-sent events), waveform, word highlighting, word
// correction and keyboard shortcuts on the transmission page.
"use strict";

// Replace the live table's content, but keep every call that is playing (or paused part-way) as the
// same <audio> element in its new row: a new call or a reconnection of the event stream must not stop
// what the operator is listening to. The new content is parsed into a fragment of this document (not
// a <template>, whose inert document would make Chromium reload a moved element), and the element is
// moved out and back within one task, so the browser does not pause it.
function swapKeepingPlayback(box, html) {
  const fresh = document.createRange().createContextualFragment(html);
  box.querySelectorAll("tr[data-tx] audio").forEach((old) => {
    if (old.paused && old.currentTime === 0) return;
    const tx = old.closest("tr[data-tx]").dataset.tx;
    const slot = fresh.querySelector(`tr[data-tx="${tx}"] audio`);
    if (slot) slot.replaceWith(old);
  });
  box.replaceChildren(fresh);
}

function liveTable() {
  const box = document.getElementById("today");
  if (!box || !window.EventSource) return;
  const url = box.dataset.live;
  let busy = false, again = false;
  // One fetch at a time; an event that comes during one makes it fetch once more afterwards, so the
  // last change is never lost.
  const refresh = async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      do {
        again = false;
        const r = await fetch(url, { credentials: "same-origin" });
        if (r.status === 401) { window.location.reload(); return; }  // session ended: to the login form
        if (r.ok) swapKeepingPlayback(box, await r.text());
      } while (again);
    } catch (e) { /* the server is away for a moment: the next event fetches again */ }
    finally { busy = false; }
  };
  const connect = () => {
    const source = new EventSource("/events");
    // "hello" starts every (re)connection: what was stored since the page was rendered, or while the
    // stream was reconnecting, sent no "change" to this page, so fetch the table then too.
    source.addEventListener("hello", refresh);
    source.addEventListener("change", refresh);
    source.addEventListener("window", refresh);  // the report window opened/closed (gateway/web/board.py)
    // The session has ended (logout elsewhere, user disabled): stop, and let the 401 go to the login form.
    source.addEventListener("logout", () => { source.close(); refresh(); });
    source.addEventListener("error", () => {
      // CONNECTING: the browser reconnects by itself. CLOSED: the server refused the stream (401 once
      // the session has ended, or an error): refresh (which goes to the login form on 401), try again.
      if (source.readyState === EventSource.CLOSED) setTimeout(() => { refresh(); connect(); }, 3000);
    });
  };
  connect();
}

function drawWave(canvas, peaks, progress) {
  const ctx = canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(canvas.clientWidth * dpr), h = Math.round(canvas.clientHeight * dpr);
  if (canvas.width !== w) canvas.width = w;  // resizing clears and reallocates: only when it changed
  if (canvas.height !== h) canvas.height = h;
  ctx.clearRect(0, 0, w, h);
  const n = peaks.length;
  if (!n) return;
  const bar = w / n;
  for (let i = 0; i < n; i++) {
    const x = i * bar;
    const amp = Math.max(1, peaks[i] * (h / 2 - 2));
    ctx.fillStyle = (i / n) < progress ? "#1a3c5a" : "#9db3c7";
    ctx.fillRect(x, h / 2 - amp, Math.max(1, bar - 0.5), amp * 2);
  }
}

async function player() {
  const box = document.getElementById("player");
  const audio = document.getElementById("audio");
  if (!box || !audio) return;
  const canvas = document.getElementById("wave");
  const words = Array.from(document.querySelectorAll("#transcript .w")).map((el) => ({
    el, start: parseFloat(el.dataset.start), end: parseFloat(el.dataset.end),
  }));
  let peaks = [], duration = 0, lit = null, frame = 0;
  const total = () => (isFinite(audio.duration) && audio.duration > 0 ? audio.duration : duration);
  const redraw = () => drawWave(canvas, peaks, total() ? audio.currentTime / total() : 0);
  const update = () => {
    redraw();
    const t = audio.currentTime;
    const hit = words.find((w) => t >= w.start && t < w.end) || null;
    if (hit !== lit) {
      if (lit) lit.el.classList.remove("now");
      if (hit) hit.el.classList.add("now");
      lit = hit;
    }
  };
  // "timeupdate" comes only every 250 ms or so: a shorter word ("di", "ke") would often never light
  // up, and the playhead would jump. While playing, follow the audio every animation frame too.
  const tick = () => { update(); frame = audio.paused ? 0 : requestAnimationFrame(tick); };
  audio.addEventListener("play", () => { if (!frame) frame = requestAnimationFrame(tick); });
  audio.addEventListener("timeupdate", update);  // seeking while paused, the end, a hidden tab
  window.addEventListener("resize", redraw);
  canvas.addEventListener("click", (ev) => {
    const rect = canvas.getBoundingClientRect();
    if (total()) { audio.currentTime = ((ev.clientX - rect.left) / rect.width) * total(); audio.play(); }
  });
  for (const w of words) {
    w.el.addEventListener("click", () => {
      if (!isNaN(w.start)) { audio.currentTime = w.start; audio.play(); }
    });
  }
  // the waveform last: the player and the words work before (and without) it
  try {
    const r = await fetch(box.dataset.peaks, { credentials: "same-origin" });
    if (r.ok) { const d = await r.json(); peaks = d.peaks; duration = d.duration; }
  } catch (e) { /* no waveform: the player still works */ }
  redraw();
}

// --- the transmission page from the keyboard: words, correction in place, shortcuts -----------------

function typing(el) {
  return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON|AUDIO|SUMMARY)$/.test(el.tagName));
}

function wordDesk() {
  const box = document.getElementById("transcript");
  if (!box) return;
  const audio = document.getElementById("audio");
  const spans = Array.from(box.querySelectorAll(".w"));
  if (!spans.length) return;
  const form = document.getElementById("edit-form");
  const canEdit = box.dataset.edit === "1" && form;
  let sel = 0;
  const select = (i, seek) => {
    if (i < 0 || i >= spans.length) return;
    spans[sel].tabIndex = -1;
    spans[sel].classList.remove("sel");
    sel = i;
    spans[sel].tabIndex = 0;
    spans[sel].classList.add("sel");
    spans[sel].focus();
    const start = parseFloat(spans[sel].dataset.start);
    if (seek && audio && !isNaN(start)) audio.currentTime = start;
  };
  const nextLow = () => {
    for (let k = 1; k <= spans.length; k++) {
      const i = (sel + k) % spans.length;
      if (spans[i].classList.contains("low")) { select(i, true); return; }
    }
  };
  const edit = (i) => {
    if (!canEdit) return;
    const span = spans[i];
    const input = document.createElement("input");
    input.className = "wordedit";
    input.value = span.textContent;
    input.setAttribute("aria-label", `ganti kata ke-${i + 1}: ${span.textContent}`);
    input.size = Math.max(4, span.textContent.length + 2);
    span.hidden = true;
    span.after(input);
    input.focus();
    input.select();
    let finished = false;
    const done = (save) => {
      if (finished) return;
      finished = true;
      const value = input.value.trim();
      input.remove();
      span.hidden = false;
      if (save && value && value !== span.textContent) {
        span.textContent = value;
        span.classList.add("edited");
        form.querySelector("textarea[name=text]").value = spans.map((s) => s.textContent).join(" ");
        sessionStorage.setItem("htg-word", `${location.pathname}#${i}`);
        form.submit();  // the server keeps the word's time (gateway/web/align.py)
      } else {
        select(i, false);
      }
    };
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") { ev.preventDefault(); done(true); }
      else if (ev.key === "Escape") { ev.preventDefault(); done(false); }
    });
    input.addEventListener("blur", () => done(false));
  };
  spans.forEach((span, i) => {
    span.addEventListener("focus", () => { if (sel !== i) select(i, false); });
    span.addEventListener("dblclick", (ev) => { ev.preventDefault(); if (audio) audio.pause(); edit(i); });
  });
  box.addEventListener("keydown", (ev) => {
    if (ev.target.tagName === "INPUT") return;
    if (ev.key === "ArrowRight") { ev.preventDefault(); select(sel + 1, true); }
    else if (ev.key === "ArrowLeft") { ev.preventDefault(); select(sel - 1, true); }
    else if (ev.key === "Enter" || ev.key === "e") { ev.preventDefault(); if (audio) audio.pause(); edit(sel); }
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(document.activeElement)) return;
    const nav = (id) => { const a = document.getElementById(id); if (a) window.location.href = a.href; };
    const key = ev.key;
    if ((key === "k" || key === " ") && audio) { ev.preventDefault(); if (audio.paused) audio.play(); else audio.pause(); }
    else if (key === "l") select(sel + 1, true);
    else if (key === "j") select(sel - 1, true);
    else if (key === "n") nextLow();
    else if (key === "v" && canEdit) { const f = document.getElementById("verify-form"); if (f) f.submit(); }
    else if (key === "]") nav("next-tx");
    else if (key === "[") nav("prev-tx");
  });
  // back from saving a word: the focus where it was
  const back = sessionStorage.getItem("htg-word");
  if (back && back.startsWith(`${location.pathname}#`)) {
    sessionStorage.removeItem("htg-word");
    const i = parseInt(back.split("#")[1], 10);
    if (i >= 0 && i < spans.length) select(i, false);
  }
}

document.addEventListener("DOMContentLoaded", () => { liveTable(); player(); wordDesk(); });
