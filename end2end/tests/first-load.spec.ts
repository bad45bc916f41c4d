import { test, expect, Response } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtures, hydrated, joinAs, studentPage } from './helpers';

// What a student's browser downloads to open an exam: the page and its assets come compressed,
// the assets under content-hashed names that are cached for good, the page revalidated every
// time. The transferred bytes and the time until the page is interactive are recorded in
// target/bench/first-load.json (measured, not asserted: they depend on the build profile).

// The student's pages load the student bundle (`student.<hash>.js|wasm`, only their pages);
// every other page the full one (`exam.<hash>.js|wasm`). The student's stylesheet is the full one
// without the teacher's pages' rules (`student.<hash>.css`, `exam.<hash>.css`).
const hashed = /\/pkg\/(?:exam|student)\.[0-9a-f]{16}\.(js|wasm|css)$/;

test('a student\'s first load: compressed, content-hashed, immutable assets; pages revalidated', async ({ browser, request }) => {
  const created = await request.post('/api/v1/exams', {
    multipart: {
      file: { name: 'lecture.pdf', mimeType: 'application/pdf', buffer: fs.readFileSync(path.join(fixtures, 'lecture.pdf')) },
      mcq: '3', options: '4', true_false: '2', title: 'First load',
    },
  });
  expect(created.status()).toBe(202);
  const { id } = await created.json();
  await expect.poll(async () => (await (await request.get('/api/v1/exams')).json()).find((e: any) => e.id === id)?.status).toBe('draft');
  expect((await request.post(`/api/v1/exams/${id}/publish`)).status()).toBe(200);

  // The student joins in a browser of their own; the exam page is then opened with an empty
  // cache (a new context with only the session cookie), as on the day of the exam.
  const joining = await studentPage(browser);
  await joinAs(joining, request, id, 'Bytes Bea');
  const cookies = await joining.context().storageState();
  await joining.context().close();
  const context = await browser.newContext({ storageState: cookies });
  const page = await context.newPage();
  const responses: Response[] = [];
  page.on('response', (r) => responses.push(r));
  const started = Date.now();
  await page.goto(`/exams/${id}`);
  await hydrated(page);
  const interactiveMs = Date.now() - started;
  await page.waitForLoadState('networkidle');

  const document = responses.find((r) => r.request().resourceType() === 'document');
  expect(document, 'the page itself').toBeTruthy();
  const docHeaders = await document!.allHeaders();
  expect(docHeaders['cache-control']).toBe('no-cache');
  expect(['br', 'gzip']).toContain(docHeaders['content-encoding']);

  const assets = responses.filter((r) => new URL(r.url()).pathname.startsWith('/pkg/'));
  const kinds = [...new Set(assets.map((r) => new URL(r.url()).pathname.match(hashed)?.[1]).filter(Boolean))].sort();
  expect(kinds, 'the hydration script, the WebAssembly and the stylesheet, by hashed name').toEqual(['css', 'js', 'wasm']);
  const names = assets.map((r) => new URL(r.url()).pathname);
  expect(names.filter((n) => n.endsWith('.wasm')), 'the student bundle, not the full one').toEqual([expect.stringMatching(/\/pkg\/student\.[0-9a-f]{16}\.wasm$/)]);
  expect(names.filter((n) => n.endsWith('.css')), 'the student stylesheet').toEqual([expect.stringMatching(/\/pkg\/student\.[0-9a-f]{16}\.css$/)]);
  for (const asset of assets) {
    const h = await asset.allHeaders();
    expect(asset.status(), asset.url()).toBe(200);
    expect(h['cache-control'], asset.url()).toBe('public, max-age=31536000, immutable');
    expect(['br', 'gzip'], asset.url()).toContain(h['content-encoding']);
    expect(h['vary'] ?? '', asset.url()).toMatch(/accept-encoding/i);
  }

  // Every request of the load, as sent over the wire (headers and encoded bodies).
  let transferred = 0;
  const rows: { url: string; type: string; encoding: string; bytes: number }[] = [];
  for (const r of responses) {
    const sizes = await r.request().sizes();
    const bytes = sizes.responseHeadersSize + sizes.responseBodySize;
    transferred += bytes;
    rows.push({ url: new URL(r.url()).pathname, type: r.request().resourceType(), encoding: (await r.allHeaders())['content-encoding'] ?? '', bytes });
  }
  const out = path.resolve(__dirname, '../../target/bench');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'first-load.json'), JSON.stringify({ transferred_bytes: transferred, interactive_ms: interactiveMs, responses: rows }, null, 2));
  console.log(`student's first load: ${transferred} bytes transferred, interactive after ${interactiveMs} ms`);

  // Coming back takes the hashed assets from the cache: none of them is fetched again.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map<string, string>();
  const cached = new Set<string>();
  const fetched: string[] = [];
  cdp.on('Network.requestWillBeSent', (e: any) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.requestServedFromCache', (e: any) => cached.add(e.requestId));
  cdp.on('Network.responseReceived', (e: any) => { if (e.response.fromDiskCache || e.response.fromPrefetchCache) cached.add(e.requestId); });
  cdp.on('Network.loadingFinished', (e: any) => {
    const url = urls.get(e.requestId) ?? '';
    if (hashed.test(new URL(url, 'http://x').pathname) && !cached.has(e.requestId) && e.encodedDataLength > 0) fetched.push(url);
  });
  await page.goto(`/exams/${id}`);
  await hydrated(page);
  expect(fetched, 'hashed assets fetched again on the second visit').toEqual([]);
  await context.close();
});

test('assets follow Accept-Encoding; unhashed names and WebSocket upgrades are left alone', async ({ request, playwright, baseURL }) => {
  const page = await request.get('/login');
  const html = await page.text();
  const wasm = html.match(/\/pkg\/exam\.[0-9a-f]{16}\.wasm/)?.[0];
  expect(wasm, 'the page names the hashed WebAssembly').toBeTruthy();
  const plain = await playwright.request.newContext({ baseURL });
  for (const [accept, expected] of [['br, gzip', 'br'], ['gzip', 'gzip'], ['identity', undefined]] as const) {
    const r = await plain.get(wasm!, { headers: { 'accept-encoding': accept } });
    expect(r.status()).toBe(200);
    expect(r.headers()['content-encoding'], accept).toBe(expected);
    expect(r.headers()['content-type']).toBe('application/wasm');
    expect(r.headers()['vary'] ?? '').toMatch(/accept-encoding/i);
  }
  // The hash file is no asset; a name without a hash is revalidated, a missing one never cached.
  const missing = await plain.get('/pkg/exam.0123456789abcdef.wasm');
  expect(missing.status()).toBe(404);
  expect(missing.headers()['cache-control']).toBeUndefined();
  // JSON from the API is compressed too (a teacher's list, over the signed-in session).
  const list = await request.get('/api/v1/exams', { headers: { 'accept-encoding': 'gzip' } });
  expect(list.status()).toBe(200);
  if ((await list.body()).length > 32) expect(list.headers()['content-encoding']).toBe('gzip');
  await plain.dispose();
});

test('a link from a student page to a page outside the student bundle loads it from the server', async ({ browser }) => {
  const page = await studentPage(browser);
  await page.goto('/exams');
  await hydrated(page);
  const wasm: string[] = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasm.push(new URL(r.url()).pathname); });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Teacher' }).click();
  // Not a "page not found" from the student bundle's router: the server's page, with the full bundle.
  await expect(page).toHaveURL(/\/(teacher|login)/);
  await expect(page.getByRole('heading', { level: 1 })).not.toHaveText(/not found/i);
  await hydrated(page);
  expect(wasm, 'the full bundle loads for the teacher page').toEqual([expect.stringMatching(/\/pkg\/exam\.[0-9a-f]{16}\.wasm$/)]);
  await page.context().close();
});
