import { test, expect } from '@playwright/test';
import { hydrated, shot } from './helpers';

// The teacher's account page: an invitation link, an access token that works for the API and
// stops working when revoked, and the teacher's own activity.
test('invite a teacher, create and revoke an access token', async ({ page, playwright, baseURL }) => {
  await page.goto('/teacher');
  await page.locator('.account .who').click();
  await expect(page).toHaveURL(/\/teacher\/account$/);
  await hydrated(page);

  await page.getByRole('button', { name: 'Create an invitation link' }).click();
  const link = await page.getByLabel('Invitation link').inputValue();
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/invite\?token=[a-z0-9]{26}$/);

  await page.getByLabel('Name').fill('grades export');
  await page.getByLabel('Name').press('Enter');
  const secret = await page.getByLabel('Your new token (copy it now)').inputValue();
  expect(secret).toMatch(/^exm_[a-z0-9]{32}$/);
  await expect(page.getByRole('cell', { name: 'grades export', exact: true })).toBeVisible();
  await expect(page.locator('.activity')).toContainText('token created');
  await shot(page, 'teacher-account');

  const script = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Authorization: `Bearer ${secret}` } });
  expect((await script.get('/api/v1/exams')).status()).toBe(200);
  await page.getByRole('button', { name: 'Revoke grades export' }).click();
  await expect(page.getByRole('cell', { name: 'grades export', exact: true })).toHaveCount(0);
  expect((await script.get('/api/v1/exams')).status()).toBe(401);
  await script.dispose();
});

// A second teacher accepts an invitation; the first shares an exam with them from the exam's
// page, and stops sharing.
test('an invited teacher gets an exam shared from its page, and loses it again', async ({ page, browser, request }) => {
  await page.goto('/teacher/account');
  await hydrated(page);
  await page.getByRole('button', { name: 'Create an invitation link' }).click();
  const link = await page.getByLabel('Invitation link').inputValue();

  const colleague = await (await browser.newContext({ storageState: { cookies: [], origins: [] } })).newPage();
  await colleague.goto(link);
  await colleague.getByLabel('Email').fill('colleague@e2e.test');
  await colleague.getByLabel('Your name').fill('Mr Colleague');
  await colleague.getByLabel('Password').fill('a colleague password');
  await colleague.getByRole('button', { name: 'Create account and sign in' }).click();
  await expect(colleague).toHaveURL(/\/teacher$/);

  const bank = [{ question: 'Shared question?', options: ['yes', 'no'], correct_answer: 'yes' }];
  const created = await request.post('/api/v1/exams', {
    multipart: { file: { name: 'shared.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bank)) }, title: 'Shared exam' },
  });
  expect(created.status()).toBe(201);
  const { id } = await created.json();

  await page.goto(`/teacher/exams/${id}`);
  await hydrated(page);
  const email = page.getByLabel('Share with a teacher (their sign-in email)');
  await email.fill('nobody@e2e.test');
  await email.press('Enter');
  await expect(page.locator('#share-error')).toContainText('no teacher has an account with this email');
  await expect(email).toHaveAttribute('aria-invalid', 'true');
  await email.fill('colleague@e2e.test');
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  const people = page.getByRole('list', { name: 'Teachers who can work on this exam' });
  await expect(people).toContainText('Mr Colleague');
  await shot(page, 'teacher-sharing');

  await colleague.goto('/teacher');
  await expect(colleague.getByRole('link', { name: 'Shared exam', exact: true })).toBeVisible();
  await colleague.goto(`/teacher/exams/${id}`);
  await expect(colleague.getByText('Only the teacher who created the exam shares it.')).toBeVisible();

  await page.getByRole('button', { name: 'Stop sharing with Mr Colleague' }).click();
  await expect(people).not.toContainText('Mr Colleague');
  const gone = await colleague.goto(`/teacher/exams/${id}`);
  expect(gone?.status()).toBe(404);
});
