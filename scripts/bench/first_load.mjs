// Bytes on the wire of a first load, in Chromium with an empty cache: every response of the
// load (headers and encoded body, as Playwright's `request.sizes()` reports them) and every
// WebSocket frame received until the page is ready and the network idle.
//   node first_load.mjs '<json>'   with {"pages": [{"name", "url", "cookies"?: [{name, value, url}],
//                                   "ready": CSS selector, "text"?: regex the element must match}]}
// Prints {"<name>": {"bytes", "http_bytes", "websocket_bytes", "responses", "ready_ms", "rows"}}.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { chromium } = createRequire(path.join(root, 'end2end/package.json'))('playwright');
const config = JSON.parse(process.argv[2]);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
});
const out = {};
for (const p of config.pages) {
  const context = await browser.newContext();
  if (p.cookies) await context.addCookies(p.cookies);
  const page = await context.newPage();
  const responses = [];
  let websocketBytes = 0;
  page.on('response', (r) => responses.push(r));
  page.on('websocket', (ws) => ws.on('framereceived', (f) => { websocketBytes += Buffer.byteLength(f.payload); }));
  const started = Date.now();
  await page.goto(p.url);
  const ready = page.locator(p.ready).first();
  await ready.waitFor({ timeout: 60_000 });
  if (p.text) {
    const re = new RegExp(p.text);
    const until = Date.now() + 60_000;
    while (!re.test((await ready.textContent()) ?? '') && Date.now() < until) await page.waitForTimeout(20);
  }
  const readyMs = Date.now() - started;
  await page.waitForLoadState('networkidle');
  await page.waitForTimeout(500);
  let http = 0;
  const rows = [];
  for (const r of responses) {
    const sizes = await r.request().sizes();
    const bytes = sizes.responseHeadersSize + sizes.responseBodySize;
    http += bytes;
    rows.push({ path: new URL(r.url()).pathname, encoding: (await r.allHeaders())['content-encoding'] ?? '', bytes });
  }
  out[p.name] = { bytes: http + websocketBytes, http_bytes: http, websocket_bytes: websocketBytes, responses: rows.length, ready_ms: readyMs, rows };
  await context.close();
}
await browser.close();
console.log(JSON.stringify(out));
