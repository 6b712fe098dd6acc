// Runs first (not deferred, in <head>): asks for the sections' data at once, while the
// browser is still loading the page's script, styles and uPlot. app.js takes these answers.
"use strict";
window.promptdBoot = Object.fromEntries(
  [
    ["overview", "/api/overview"],
    ["history", "/api/history?"],
    ["batches", "/api/batches"],
    ["audit", "/api/audit?limit=50"],
    ["backups", "/api/backups"],
  ].map(([name, url]) => [name, fetch(url, { credentials: "same-origin", cache: "no-store" })]),
);
