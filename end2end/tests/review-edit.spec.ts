import { test, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { hydrated, shot, submitAsStudent } from './helpers';

// A teacher imports a question bank, reviews it (sources, validator flags), edits a question,
// reorders with the keyboard only, publishes, edits the published exam and publishes version 2;
// exports download. Keyboard-only: every action is reached with focus + Enter/Space.

const bank = {
  title: 'Review me',
  questions: [
    { question: 'Which planet is largest?', options: ['Jupiter', 'Mars', 'Venus'], correct_answer: 'Jupiter',
      source: { page: 2, quote: 'Jupiter is the largest planet.' } },
    { question: 'The Sun is a star.', options: ['True', 'False'], correct_answer: 'True',
      source: { page: 3, quote: 'The Sun is a star.' }, flags: ['The quote does not state this directly.'] },
    { question: 'Closest planet to the Sun?', options: ['Mercury', 'Earth', 'Saturn'], correct_answer: 'Mercury',
      source: { page: 4, quote: 'Mercury orbits closest to the Sun.' } },
  ],
};

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

async function press(page: Page, name: string | RegExp, key = 'Enter') {
  const control = page.getByRole('button', { name, exact: typeof name === 'string' });
  await control.focus();
  await page.keyboard.press(key);
}

test('edit, reorder and publish with the keyboard; a second version; exports', async ({ page, request, playwright, baseURL }) => {
  const created = await request.post('/api/v1/exams', {
    multipart: { file: { name: 'bank.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bank)) } },
  });
  expect(created.status()).toBe(201);
  const { id } = await created.json();

  await page.goto(`/teacher/exams/${id}`);
  await hydrated(page);
  await expect(page.locator('.pill')).toHaveText('Draft');
  const cards = page.locator('#questions > li');
  await expect(cards).toHaveCount(3);
  // Source page and quote on every card; the validator's flag on the second.
  await expect(page.locator('blockquote.source')).toHaveCount(3);
  await expect(cards.nth(1).getByRole('note')).toContainText('The quote does not state this directly.');
  await expect(page.locator('.question.flagged')).toHaveCount(1);

  // Edit question 1 with the keyboard: open the disclosure, change the text and the answer.
  await page.getByText('Edit question 1', { exact: true }).focus();
  await page.keyboard.press('Enter');
  const text = page.getByLabel('Question 1 text');
  await text.focus();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.type('Which planet has the most moons?');
  await cards.first().getByLabel('Option 2', { exact: true }).fill('Saturn');
  await cards.first().getByLabel('Option 2 is correct').focus();
  await page.keyboard.press('Space');
  await shot(page, 'teacher-edit-question');
  await press(page, 'Save question 1');
  await expect(cards.first().locator('.prompt')).toHaveText('Which planet has the most moons?');
  await expect(cards.first().locator('li.correct')).toContainText('Saturn');
  await expect(page.getByRole('status').filter({ hasText: 'Question 1 saved.' })).toBeAttached();
  // Editing cleared nothing else: the flag is still on the untouched question.
  await expect(page.locator('.question.flagged')).toHaveCount(1);

  // A bad edit keeps the form open with a readable error next to the question.
  await page.getByText('Edit question 3', { exact: true }).focus();
  await page.keyboard.press('Enter');
  for (const n of [2, 3]) await cards.nth(2).getByLabel(`Option ${n}`, { exact: true }).fill('');
  await press(page, 'Save question 3');
  await expect(cards.nth(2).getByRole('alert')).toContainText('2 to 7 options');
  await expect(page.getByLabel('Question 3 text')).toBeVisible();

  // Move question 3 up twice with the keyboard; focus follows the moved card.
  await press(page, 'Move up question 3');
  await expect(cards.nth(1).locator('.prompt')).toHaveText('Closest planet to the Sun?');
  await expect(page.getByRole('button', { name: 'Move up question 2' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(cards.first().locator('.prompt')).toHaveText('Closest planet to the Sun?');
  await expect(page.getByRole('button', { name: 'Move down question 1' })).toBeFocused();

  // The edit forms follow their questions (no form state left over from the old order).
  await page.getByText('Edit question 1', { exact: true }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Question 1 text')).toHaveValue('Closest planet to the Sun?');
  await expect(cards.first().getByLabel('Option 1', { exact: true })).toHaveValue('Mercury');
  await expect(cards.first().getByLabel('Option 1 is correct')).toBeChecked();
  await expect(page.getByText('Edit question 3', { exact: true }).locator('xpath=..')).not.toHaveAttribute('open', '');

  expect(await seriousViolations(page)).toEqual([]);
  await shot(page, 'teacher-review-edit');

  // Publish version 1.
  await press(page, 'Publish exam');
  await expect(page.locator('.pill')).toHaveText('Published');
  await expect(page.locator('.version-badge')).toHaveText('Version 1');
  const paper = await (await request.get(`/api/v1/exams/${id}`)).json();
  expect(paper.version).toBe(1);
  expect(paper.questions.map((q: any) => q.question)).toEqual([
    'Closest planet to the Sun?', 'Which planet has the most moons?', 'The Sun is a star.',
  ]);

  // Editing the published exam starts version 2; students keep version 1 until it is published.
  await page.getByText('Edit question 3', { exact: true }).focus();
  await page.keyboard.press('Enter');
  await cards.nth(2).getByLabel('False is correct').focus();
  await page.keyboard.press('Space');
  await press(page, 'Save question 3');
  await expect(page.locator('.state-line')).toContainText('Unpublished changes based on version 1');
  expect((await (await request.get(`/api/v1/exams/${id}`)).json()).version).toBe(1);
  await press(page, 'Publish version 2');
  await expect(page.locator('.version-badge')).toHaveText('Version 2');
  await expect(page.locator('.versions li')).toHaveCount(2);
  await expect(cards.nth(2).locator('.prompt')).toHaveText('The Sun is a star.');
  await expect(cards.nth(2).locator('li.correct')).toContainText('False');
  expect((await (await request.get(`/api/v1/exams/${id}`)).json()).version).toBe(2);
  await shot(page, 'teacher-review-versions');

  // Exports are links that download.
  const gift = page.getByRole('link', { name: 'GIFT', exact: true });
  const download = page.waitForEvent('download');
  await gift.focus();
  await page.keyboard.press('Enter');
  expect((await download).suggestedFilename()).toBe('Review_me.gift.txt');
  const xml = await request.get(`/api/v1/exams/${id}/export.xml?version=1`);
  expect(xml.headers()['content-type']).toBe('application/xml; charset=utf-8');
  expect(await xml.text()).toContain('<question type="truefalse">');

  // The results page offers the CSV.
  await submitAsStudent(playwright, baseURL, request, id, 'Ada', {});
  await page.goto(`/teacher/exams/${id}/results`);
  await expect(page.getByRole('columnheader', { name: 'Version' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Download results (CSV)' })).toHaveAttribute('href', `/api/v1/exams/${id}/results.csv`);
  expect(await seriousViolations(page)).toEqual([]);
});

// Another class submitting (a live frame about another exam) must not reload the review page
// under the teacher's hands: the half-typed edit stays, and the page does not refetch.
test('what the teacher is typing survives submissions to other exams', async ({ page, request, playwright, baseURL }) => {
  const importBank = async (title: string) => {
    const r = await request.post('/api/v1/exams', {
      multipart: { file: { name: 'bank.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...bank, title })) } },
    });
    expect(r.status()).toBe(201);
    return (await r.json()).id as string;
  };
  const mine = await importBank('Being edited');
  const other = await importBank('Other class');
  expect((await request.post(`/api/v1/exams/${other}/publish`)).status()).toBe(200);

  const frames: any[] = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    try { frames.push(JSON.parse(String(f.payload))); } catch { /* ping */ }
  }));
  await page.goto(`/teacher/exams/${mine}`);
  await hydrated(page);
  await page.getByText('Edit question 1').click();
  await page.getByLabel('Question 1 text').fill('Half-typed question');
  let refetches = 0;
  page.on('request', (r) => { if (r.url().includes('load_teacher_exam')) refetches++; });

  await submitAsStudent(playwright, baseURL, request, other, 'Someone else', {});
  await expect.poll(() => frames.some((f) => f.type === 'submission' && f.exam_id === other)).toBe(true);
  // Give a refetch, if one were coming, the time it takes on this page (tens of ms).
  await page.waitForTimeout(1000);
  expect(refetches).toBe(0);
  await expect(page.getByLabel('Question 1 text')).toHaveValue('Half-typed question');
});
