import { test, expect } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtures } from './helpers';

// Pages are rendered completely on the server: with JavaScript disabled the lists, the exam
// page and the upload form still work.
test.use({ javaScriptEnabled: false });

test('pages render and the upload form works without JavaScript', async ({ page, request }) => {
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

  await page.goto('/exams');
  await expect(page.getByRole('link', { name: 'Server rendered', exact: true })).toBeVisible();
  await page.goto(`/exams/${id}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Server rendered');
  await expect(page.getByText('3 questions.', { exact: false })).toBeVisible();
  await expect(page.getByText('Taking an exam needs JavaScript')).toBeVisible();

  // The teacher's form posts natively and lands on the new exam's page.
  await page.goto('/teacher');
  await expect(page.getByText('Choose a lecture PDF with selectable text')).toBeVisible();
  await page.getByLabel('Lecture PDF').setInputFiles(path.join(fixtures, 'lecture.pdf'));
  await page.getByLabel(/Exam title/).fill('Posted without JS');
  await page.getByRole('button', { name: 'Upload and generate' }).click();
  await expect(page).toHaveURL(/\/teacher\/exams\/[a-z0-9]+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Posted without JS');
});
