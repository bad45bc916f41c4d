import { test, expect, APIRequestContext, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtures, hydrated, joinAs, shot, studentPage } from './helpers';

async function publishedExam(request: APIRequestContext, title: string, mcq = 2, tf = 1): Promise<{ id: string; key: Record<string, string> }> {
  const created = await request.post('/api/v1/exams', {
    multipart: {
      file: { name: 'lecture.pdf', mimeType: 'application/pdf', buffer: fs.readFileSync(path.join(fixtures, 'lecture.pdf')) },
      mcq: String(mcq), options: '4', true_false: String(tf), title,
    },
  });
  expect(created.status()).toBe(202);
  const { id } = await created.json();
  await expect.poll(async () => (await (await request.get('/api/v1/exams')).json()).find((e: any) => e.id === id)?.status).toBe('draft');
  const teacher = await (await request.get(`/api/v1/exams/${id}/questions`)).json();
  const key: Record<string, string> = {};
  for (const q of teacher.questions) key[q.id] = q.correct_option;
  expect((await request.post(`/api/v1/exams/${id}/publish`)).status()).toBe(200);
  return { id, key };
}

/** Every JSON object in `value` (recursively). */
function* objects(value: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(value)) for (const v of value) yield* objects(v);
  else if (value && typeof value === 'object') {
    yield value as Record<string, unknown>;
    for (const v of Object.values(value)) yield* objects(v);
  }
}

const KEY_FIELDS = ['correct', 'correct_option', 'correct_answer', 'is_correct', 'source', 'explanation'];

/** Where, if anywhere, a payload reveals the answer key. */
function leaks(payload: string): string | null {
  for (const field of ['correct_option', 'correct_answer', '"is_correct"', '"quote"', '"explanation"']) if (payload.includes(field)) return field;
  for (const chunk of payload.match(/\{.*\}|\[.*\]/gs) ?? []) {
    try {
      for (const o of objects(JSON.parse(chunk))) for (const f of KEY_FIELDS) if (f in o) return f;
    } catch { /* not JSON */ }
  }
  return null;
}

test('nothing the student page receives before submitting reveals the key', async ({ browser, request }) => {
  const { id } = await publishedExam(request, 'Privacy check');
  const page = await studentPage(browser);
  const received: { what: string; body: string }[] = [];
  let submitted = false;
  page.on('response', async (r) => {
    if (submitted) return;
    const type = r.headers()['content-type'] ?? '';
    if (/json|html|text/.test(type)) received.push({ what: `${r.status()} ${r.url()}`, body: await r.text().catch(() => '') });
  });
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    if (!submitted) received.push({ what: `ws ${ws.url()}`, body: String(f.payload) });
  }));

  await joinAs(page, request, id, 'Privacy Student');
  await page.getByRole('button', { name: 'Start the exam' }).click();
  await expect(page.getByText('Question 1 of 3')).toBeVisible();
  for (let i = 0; i < 3; i++) {
    await page.getByRole('button', { name: new RegExp(`^Question ${i + 1},`) }).click();
    await page.locator('fieldset.question-take input[type=radio]').first().check();
    await expect(page.locator('.save-state')).toHaveText('✓ Answer saved');
  }
  expect(received.some((r) => r.what.startsWith('ws ') && r.what.includes('/attempt'))).toBe(true);
  expect(received.some((r) => r.what.includes(`/exams/${id}`))).toBe(true);
  for (const r of received) expect(leaks(r.body), `${r.what} reveals the key`).toBeNull();

  submitted = true;
  await page.getByRole('button', { name: 'Submit answers' }).click();
  await expect(page.locator('.score h2')).toBeVisible();
});

test('an exam can be joined and taken with the keyboard alone', async ({ browser, request }) => {
  const { id, key } = await publishedExam(request, 'Keyboard check', 2, 0);
  const code = (await (await request.get(`/api/v1/exams/${id}/questions`)).json()).join_code;
  const page = await studentPage(browser);
  await page.goto(`/exams/${id}`);
  await hydrated(page);
  await page.getByLabel('Join code').focus();
  await page.keyboard.type(code.toLowerCase());
  await page.keyboard.press('Tab');
  await page.keyboard.type('Key Board');
  await page.keyboard.press('Enter');
  await expect(page.getByText('Hello, Key Board')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Start the exam' })).toBeVisible();
  const focusedStart = () => page.evaluate(() => (document.activeElement?.tagName === 'BUTTON' ? document.activeElement.textContent : '') ?? '');
  for (let i = 0; i < 30 && !(await focusedStart()).includes('Start the exam'); i++) await page.keyboard.press('Tab');
  expect(await focusedStart()).toContain('Start the exam');
  await page.keyboard.press('Enter');
  await expect(page.getByText('Question 1 of 2')).toBeVisible();

  const focusedRadio = () => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.type === 'radio');
  for (let i = 0; i < 8 && !(await focusedRadio()); i++) await page.keyboard.press('Tab');
  expect(await focusedRadio()).toBe(true);
  await page.keyboard.press('Space');
  await expect(page.locator('fieldset.question-take input[type=radio]:checked')).toHaveCount(1);
  await page.keyboard.press('ArrowDown');
  await expect(page.locator('fieldset.question-take input[type=radio]').nth(1)).toBeChecked();
  await expect(page.locator('.save-state')).toHaveText('✓ Answer saved');
  await shot(page, 'student-keyboard');

  // Tab on to "Next →", then answer question 2 the same way.
  const focusedText = () => page.evaluate(() => document.activeElement?.textContent ?? '');
  for (let i = 0; i < 8 && !(await focusedText()).includes('Next'); i++) await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(page.getByText('Question 2 of 2')).toBeVisible();
  await page.keyboard.press('Shift+Tab');
  for (let i = 0; i < 8 && !(await focusedRadio()); i++) await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Space');
  await expect(page.locator('.save-state')).toHaveText('✓ Answer saved');

  for (let i = 0; i < 20 && !(await focusedText()).includes('Submit'); i++) await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(page.locator('.score h2')).toBeVisible();
  await expect(page.locator('.score .big')).toContainText('/ 2');
  expect(Object.keys(key)).toHaveLength(2);
});

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

test('main pages have no serious accessibility violations', async ({ page, browser, request }) => {
  const { id } = await publishedExam(request, 'Accessible exam', 1, 1);
  for (const url of ['/', '/teacher', '/exams', `/exams/${id}`, `/teacher/exams/${id}`, `/teacher/exams/${id}/results`]) {
    await page.goto(url);
    await hydrated(page);
    expect(await seriousViolations(page), url).toEqual([]);
  }
  // And as a student: the join page, the joined exam, and while taking it.
  const student = await studentPage(browser);
  await student.goto('/join');
  await hydrated(student);
  expect(await seriousViolations(student), '/join').toEqual([]);
  await joinAs(student, request, id, 'Axe');
  expect(await seriousViolations(student), 'joined').toEqual([]);
  await student.getByRole('button', { name: 'Start the exam' }).click();
  await expect(student.getByText('Question 1 of 2')).toBeVisible();
  expect(await seriousViolations(student), 'taking').toEqual([]);
});
