// Timings for bench/web.sh: API latency (p50, p95 over 200 requests on a
// keep-alive connection) and the Models page in Chromium.
import { readFileSync } from 'node:fs';
import { launch, BASE } from '../tests/browser/lib.mjs';

// the server's CPU time (user + system, ms) from /proc: what a request
// costs whatever the load of the machine, which stretches the wall time
const PID = process.env.DANGO_WEB_PID;
const TICK_MS = 10; // USER_HZ is 100 on Linux
function cpuMs() {
  if (!PID) return NaN;
  const f = readFileSync('/proc/' + PID + '/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

const N = 200;
const routes = ['/assets/app.css', '/api/health', '/api/sources', '/api/sources/s1', '/api/runs', '/api/models',
                '/api/models/int_1', '/api/lineage', '/api/catalog', '/api/schedules', '/api/overview', '/api/drift',
                '/api/oauth'];
const API_GOAL = 50, PAINT_GOAL = 300;
const f0 = v => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(0));
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
let floor = 0;
console.log('route                    bytes     p50 ms   p95 ms   p95/floor  cpu ms/req   goal p95 < ' + API_GOAL + ' ms');
for (const r of routes) {
  const times = [];
  let bytes = 0;
  const cpu0 = cpuMs();
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    const res = await fetch(BASE + r);
    const body = await res.arrayBuffer();
    times.push(performance.now() - t);
    bytes = body.byteLength;
    if (!res.ok) throw new Error(r + ': ' + res.status);
  }
  const cpu = (cpuMs() - cpu0) / N;
  const p95 = pct(times, 0.95);
  if (!floor) floor = p95;
  console.log(r.padEnd(24), String(bytes).padStart(8), pct(times, 0.5).toFixed(2).padStart(9),
              p95.toFixed(2).padStart(8), (p95 / floor).toFixed(1).padStart(10) + 'x', cpu.toFixed(2).padStart(11),
              (r.startsWith('/api/') ? (p95 < API_GOAL ? '   met' : '   MISSED') : '   (reference)'));
}
const { browser, page } = await launch();
// when the first row and the 1,000th are on screen: marked after the frame
// that drew them (a requestAnimationFrame, then a task), seen from outside
// the page's code so that any version of the page is measured alike
await page.addInitScript(() => {
  const seen = {};
  const mark = name => {
    if (seen[name]) return;
    seen[name] = 1;
    requestAnimationFrame(() => setTimeout(() => performance.mark(name), 0));
  };
  const mo = new MutationObserver(() => {
    const tb = document.querySelector('#models tbody');
    if (!tb || !tb.rows.length) return;
    mark('bench-first-rows');
    if (tb.rows.length >= 1000) { mark('bench-all-rows'); mo.disconnect(); }
  });
  mo.observe(document, { childList: true, subtree: true });
});
// the reference for paint: /login, a static form with the same stylesheet and no script
const refs = [];
for (let i = 0; i < 5; i++) {
  await page.goto(BASE + '/login');
  // the paint entry may come after the load event on a loaded machine
  await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0);
  refs.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0].startTime));
}
const loads = [];
for (let i = 0; i < 5; i++) {
  const t = Date.now();
  await page.goto(BASE + '/models');
  await page.locator('#models tbody tr').nth(999).waitFor({ state: 'attached' });
  const rows = Date.now() - t;
  await page.waitForFunction(() => performance.getEntriesByName('bench-all-rows').length > 0 &&
                                   performance.getEntriesByName('first-contentful-paint').length > 0);
  const [fcp, first, drawn] = await page.evaluate(() => [(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime,
    (performance.getEntriesByName('bench-first-rows')[0] || {}).startTime,
    (performance.getEntriesByName('bench-all-rows')[0] || {}).startTime]);
  loads.push({ fcp, rows, first, drawn });
}
await browser.close();
const fcps = loads.map(l => l.fcp), rowsT = loads.map(l => l.rows), drawn = loads.map(l => l.drawn), first = loads.map(l => l.first);
console.log('Models page (5 loads): first contentful paint p50 ' + pct(fcps, 0.5).toFixed(0) + ' ms, max ' +
            Math.max(...fcps).toFixed(0) + ' ms; first screen of rows painted p50 ' + f0(pct(first, 0.5)) +
            ' ms; all 1,000 rows painted p50 ' + pct(drawn, 0.5).toFixed(0) +
            ' ms, max ' + Math.max(...drawn).toFixed(0) + ' ms; seen by the test driver p50 ' + pct(rowsT, 0.5) + ' ms');
console.log('reference: first contentful paint of /login (static, same stylesheet) p50 ' + pct(refs, 0.5).toFixed(0) + ' ms');
console.log('goal: first paint of Models < ' + PAINT_GOAL + ' ms: ' + (pct(fcps, 0.5) < PAINT_GOAL ? 'met' : 'MISSED') +
            ' (p50 ' + pct(fcps, 0.5).toFixed(0) + ' ms, ' + (pct(fcps, 0.5) / pct(refs, 0.5)).toFixed(1) + 'x the reference)');
