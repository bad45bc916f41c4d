import { test, expect } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hydrated, shot, submitAsStudent } from './helpers';
import { teacherState } from '../playwright.config';

// An exam's data over its life, as a teacher meets it: the archive downloaded from the exam
// page, the exam deleted for good (keyboard only, after being told what goes), and the archive
// imported back from the dashboard with its results; a broken archive explained at its field.
test('a teacher keeps an archive, deletes the exam and imports the archive back', async ({ page, playwright, baseURL }) => {
  const teacherApi = await playwright.request.newContext({ baseURL, storageState: teacherState });
  const bank = [
    { question: 'Which gas do plants take in?', options: ['Carbon dioxide', 'Oxygen', 'Helium'], correct_answer: 'Carbon dioxide' },
    { question: 'What do roots take up?', options: ['Water', 'Light', 'Sound'], correct_answer: 'Water' },
  ];
  const created = await teacherApi.post('/api/v1/exams', {
    multipart: { file: { name: 'plants.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bank)) }, title: 'Plants to keep' },
  });
  expect(created.status()).toBe(201);
  const { id } = await created.json();
  expect((await teacherApi.post(`/api/v1/exams/${id}/publish`)).status()).toBe(200);
  await submitAsStudent(playwright, baseURL, teacherApi, id, 'Ada', { q1: 'a', q2: 'a' });

  await page.goto(`/teacher/exams/${id}`);
  await hydrated(page);
  const link = page.getByRole('link', { name: 'Download archive (.tar.gz)' });
  const href = await link.getAttribute('href');
  expect(href).toBe(`/api/v1/exams/${id}/export.tar.gz`);
  // Downloads cannot be saved by this machine's Chromium: the same request, with the same cookie.
  const archive = await teacherApi.get(href!);
  expect(archive.status()).toBe(200);
  expect(archive.headers()['content-type']).toBe('application/gzip');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'exam-archive-')), 'plants.tar.gz');
  fs.writeFileSync(file, await archive.body());

  // The deletion says what goes before anything happens; keyboard only.
  const disclosure = page.getByText('Delete this exam…');
  await disclosure.focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('.danger-zone')).toContainText('“Plants to keep” with its document, every version, its settings and 1 submission for good');
  await shot(page, 'exam-delete-confirm');
  await page.getByRole('button', { name: 'Delete for good' }).focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/teacher\?deleted=1$/);
  await expect(page.locator('.notice')).toHaveText('The exam and all its data were deleted.');
  await expect(page.locator(`[data-exam-id="${id}"]`)).toHaveCount(0);
  expect((await teacherApi.get(`/api/v1/exams/${id}/questions`)).status()).toBe(404);

  // A file that is no archive: the reason next to the field, nothing imported.
  await page.getByText('Import an exam archive').click();
  const notArchive = path.join(path.dirname(file), 'notes.tar.gz');
  fs.writeFileSync(notArchive, 'just some notes');
  await page.getByLabel(/^Archive/).setInputFiles(notArchive);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.locator('#archive-error')).toContainText('not a readable exam archive');
  await expect(page.getByLabel(/^Archive/)).toHaveAttribute('aria-invalid', 'true');
  await shot(page, 'exam-import-error');

  // The archive: a new exam with the same questions and result.
  await page.getByLabel(/^Archive/).setInputFiles(file);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page).toHaveURL(/\/teacher\/exams\/[0-9a-z]+$/);
  const newId = page.url().split('/').pop()!;
  expect(newId).not.toBe(id);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Plants to keep');
  await expect(page.getByRole('link', { name: 'Results (1)' })).toBeVisible();
  await expect(page.locator('.questions')).toContainText('Which gas do plants take in?');
  const results = await (await teacherApi.get(`/api/v1/exams/${newId}/results.csv`)).text();
  expect(results).toMatch(/^student,/);
  expect(results).toContain('Ada,1,1,');
  await teacherApi.dispose();
});
