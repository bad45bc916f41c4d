import { test, expect, APIRequestContext } from '@playwright/test';
import { hydrated, joinAs, shot, studentPage, submitAsStudent } from './helpers';

/** An imported, published exam of `n` questions whose key is always the first option ("right <i>"). */
async function publishedBank(request: APIRequestContext, title: string, n: number): Promise<string> {
  const bank = Array.from({ length: n }, (_, i) => ({ question: `Question ${i + 1}?`, options: [`right ${i + 1}`, 'w1', 'w2', 'w3'], correct_answer: `right ${i + 1}` }));
  const created = await request.post('/api/v1/exams', {
    multipart: { file: { name: 'bank.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bank)) }, title },
  });
  expect(created.status()).toBe(201);
  const { id } = await created.json();
  expect((await request.post(`/api/v1/exams/${id}/publish`)).status()).toBe(200);
  return id;
}

test('a timed attempt counts down to zero and shows the automatic submission', async ({ browser, request }) => {
  const id = await publishedBank(request, 'Timed quiz', 3);
  const put = await request.put(`/api/v1/exams/${id}/settings`, { data: { time_limit_secs: 8, grace_secs: 0 } });
  expect(put.status()).toBe(200);

  const page = await studentPage(browser);
  await joinAs(page, request, id, 'Timed Tess');
  await expect(page.getByText('Time limit: 0 min 8 s.')).toBeVisible();
  await page.getByRole('button', { name: 'Start the exam' }).click();
  const timer = page.getByRole('timer', { name: 'Time left' });
  await expect(timer).toHaveText(/^00:0[0-8]$/);
  await page.getByRole('radio').first().check();
  await expect(page.getByText('✓ Answer saved')).toBeVisible();
  await shot(page, 'student-countdown');

  // No click: the clock runs out and the result arrives.
  await expect(page.locator('.score h2')).toHaveText(/Passed|Not passed/, { timeout: 20_000 });
  await expect(page.getByText('Time ran out: your saved answers were submitted automatically.')).toBeVisible();
  await shot(page, 'student-auto-submitted');
  const subs = await (await request.get(`/api/v1/exams/${id}/submissions`)).json();
  expect(subs).toHaveLength(1);
  expect(subs[0].auto_submitted).toBe(true);
  expect(Object.keys(subs[0].answers)).toHaveLength(1);

  // Coming back later shows the submission in the student's standing.
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Your submissions' })).toBeVisible();
  await expect(page.getByText('Time ran out: your saved answers were submitted automatically.')).toBeVisible();
});

test('results held until release show only that the attempt was received', async ({ browser, request }) => {
  const id = await publishedBank(request, 'Held results', 2);
  expect((await request.put(`/api/v1/exams/${id}/settings`, { data: { review: { show: 'correct', when: 'on_release' } } })).status()).toBe(200);
  const page = await studentPage(browser);
  await joinAs(page, request, id, 'Patient Pat');
  await page.getByRole('button', { name: 'Start the exam' }).click();
  await page.getByRole('radio').first().check();
  await expect(page.getByText('✓ Answer saved')).toBeVisible();
  await page.getByRole('button', { name: /Submit/ }).click();
  await page.getByRole('button', { name: 'Submit anyway' }).click();
  await expect(page.locator('.score h2')).toHaveText('Submitted');
  await expect(page.getByText('when your teacher releases results')).toBeVisible();
  await expect(page.locator('body')).not.toContainText('right 2');
  expect((await request.post(`/api/v1/exams/${id}/release`)).status()).toBe(200);
  await page.getByRole('button', { name: 'See your attempts' }).click();
  await expect(page.locator('.score h2')).toHaveText(/Passed|Not passed/);
});

test('the statistics page draws the score histogram and option bars', async ({ page, request, playwright, baseURL }) => {
  const id = await publishedBank(request, 'Analysed quiz', 3);
  const answers = [
    { q1: 'a', q2: 'a', q3: 'a' }, { q1: 'a', q2: 'a', q3: 'b' }, { q1: 'a', q2: 'b', q3: 'c' },
    { q1: 'b', q2: 'a', q3: 'a' }, { q1: 'c', q2: 'c', q3: 'b' },
  ];
  for (const [i, a] of answers.entries()) await submitAsStudent(playwright, baseURL, request, id, `Student ${i + 1}`, a);
  await page.goto(`/teacher/exams/${id}/statistics`);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Analysed quiz');
  const charts = page.locator('figure svg[role="img"]');
  await expect(charts.first()).toBeVisible();
  expect(await charts.count()).toBeGreaterThanOrEqual(4); // the histogram and one bar chart per question
  await expect(page.locator('a[href*="statistics.csv"]')).toBeVisible();
  await shot(page, 'teacher-statistics');
});
