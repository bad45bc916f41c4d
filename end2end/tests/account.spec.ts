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
