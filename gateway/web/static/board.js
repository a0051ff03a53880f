// ht-gateway: the board's autoplay of new calls and the log's keyboard (j/k, arrows, Enter/space).
"use strict";

function boardAutoplay() {
  const box = document.getElementById("today"), toggle = document.getElementById("autoplay");
  if (!box || !toggle) return;
  const KEY = "htg-autoplay";
  toggle.checked = localStorage.getItem(KEY) === "1";  // off unless this browser turned it on
  toggle.addEventListener("change", () => localStorage.setItem(KEY, toggle.checked ? "1" : "0"));
  const newest = () => {
    const row = box.querySelector("#feed tbody tr[data-tx]");
    return row ? Number(row.dataset.tx) : 0;
  };
  let seen = newest();
  new MutationObserver(() => {
    const top = newest();
    if (top > seen && toggle.checked) {
      const audio = box.querySelector(`#feed tr[data-tx="${top}"] audio`);
      if (audio) audio.play().catch(() => {});
    }
    seen = Math.max(seen, top);
  }).observe(box, { childList: true, subtree: true });
}

function logKeys() {
  const rows = Array.from(document.querySelectorAll("table.log tbody tr[data-tx]"));
  if (!rows.length) return;
  let at = -1;
  const select = (n, play) => {
    if (n < 0 || n >= rows.length) return;
    if (at >= 0) { rows[at].classList.remove("current"); rows[at].removeAttribute("aria-current"); }
    at = n;
    const row = rows[at];
    row.classList.add("current");
    row.setAttribute("aria-current", "true");
    row.scrollIntoView({ block: "nearest" });
    document.querySelectorAll("table.log audio").forEach((a) => { if (!row.contains(a)) a.pause(); });
    const audio = row.querySelector("audio");
    if (play && audio) { audio.currentTime = 0; audio.play().catch(() => {}); }
  };
  rows.forEach((row, n) => {
    const audio = row.querySelector("audio");
    if (audio) audio.addEventListener("play", () => { if (at !== n) select(n, false); });
  });
  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
    if (ev.key === "j" || ev.key === "ArrowDown") { select(at + 1, true); ev.preventDefault(); }
    else if (ev.key === "k" || ev.key === "ArrowUp") { select(Math.max(0, at - 1), true); ev.preventDefault(); }
    else if ((ev.key === " " || ev.key === "p") && at >= 0 && !(t && t.tagName === "AUDIO")) {
      const audio = rows[at].querySelector("audio");
      if (audio) { if (audio.paused) audio.play().catch(() => {}); else audio.pause(); }
      ev.preventDefault();
    } else if (ev.key === "Enter" && at >= 0 && !(t && (t.tagName === "A" || t.tagName === "BUTTON"))) {
      window.location.href = `/tx/${rows[at].dataset.tx}`;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => { boardAutoplay(); logKeys(); });
