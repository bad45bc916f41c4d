import { test, expect } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtures } from './helpers';

// Pages are rendered completely on the server: with JavaScript disabled the lists, the exam
// page and the upload form still work.
test.use({ javaScriptEnabled: false });

test('pages render, a student joins and the upload form works without JavaScript', async ({ page, browser, request }) => {
  // Arrange a published exam through the HTTP API.
  const created = await request.post('/api/v1/exams', {
    multipart: {
      file: { name: 'lecture.pdf', mimeType: 'application/pdf', buffer: fs.readFileSync(path.join(fixtures, 'lecture.pdf')) },
      mcq: '2', options: '3', true_false: '1', title: 'Server rendered',
    },
  });
  expect(created.status()).toBe(202);
  const { id } = await created.json();
  await expect.poll(async () => (await (await request.get('/api/v1/exams')).json()).find((e: any) => e.id === id)?.status).toBe('draft');
  expect((await request.post(`/api/v1/exams/${id}/publish`)).status()).toBe(200);

  // A student joins through the link: the form posts natively and the exam page follows.
  const code = (await (await request.get(`/api/v1/exams/${id}/questions`)).json()).join_code;
  const student = await (await browser.newContext({ javaScriptEnabled: false, storageState: { cookies: [], origins: [] } })).newPage();
  await student.goto(`/exams/${id}`);
  await expect(student.getByRole('heading', { level: 1 })).toHaveText('Server rendered');
  await expect(student.getByText('3 questions.', { exact: false })).toBeVisible();
  await student.getByLabel('Join code').fill('12345');
  await student.getByLabel('Your name').fill('Offline Olga');
  await student.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(student.locator('#code-error')).toContainText('8 letters and digits');
  await expect(student.getByLabel('Your name')).toHaveValue('Offline Olga');
  await student.getByLabel('Join code').fill(code);
  await student.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(student).toHaveURL(new RegExp(`/exams/${id}$`));
  await expect(student.getByText('You are taking this exam as Offline Olga.')).toBeVisible();
  await expect(student.getByText('Taking an exam needs JavaScript')).toBeVisible();
  await student.goto('/exams');
  await expect(student.getByRole('link', { name: 'Server rendered', exact: true })).toBeVisible();

  // The teacher's form posts natively and lands on the new exam's page.
  await page.goto('/teacher');
  await expect(page.getByText('Choose a lecture PDF with selectable text')).toBeVisible();
  await page.getByLabel('Lecture PDF').setInputFiles(path.join(fixtures, 'lecture.pdf'));
  await page.getByLabel(/Exam title/).fill('Posted without JS');
  await page.getByRole('button', { name: 'Upload and generate' }).click();
  await expect(page).toHaveURL(/\/teacher\/exams\/[a-z0-9]+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Posted without JS');
});
