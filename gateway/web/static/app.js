// ht-gateway web UI: live today table (server-sent events), waveform, word highlighting.
"use strict";

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
        if (r.ok) box.innerHTML = await r.text();
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

document.addEventListener("DOMContentLoaded", () => { liveTable(); player(); });
