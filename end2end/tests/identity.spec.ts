import { test, expect } from '@playwright/test';
import { teacher } from '../playwright.config';
import { hydrated, shot } from './helpers';

// A browser that has not signed in.
test.use({ storageState: { cookies: [], origins: [] } });

test('a visitor is sent to sign in, a wrong password is explained, sign-out ends the session', async ({ page }) => {
  await page.goto('/teacher/exams/0123456789abcdef/settings');
  await expect(page).toHaveURL(/\/login\?next=%2Fteacher%2Fexams%2F0123456789abcdef%2Fsettings$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in');
  await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();

  await page.getByLabel('Email').fill(teacher.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const error = page.locator('#login-error');
  await expect(error).toHaveText('The email or the password is not right.');
  await expect(page.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
  await shot(page, 'sign-in-error');

  await page.getByLabel('Email').fill(teacher.email);
  await page.getByLabel('Password').fill(teacher.password);
  await page.getByLabel('Password').press('Enter');
  // Back where the teacher was going, even after a failed try.
  await expect(page).toHaveURL(/\/teacher\/exams\/0123456789abcdef\/settings$/);
  await page.goto('/teacher');
  await hydrated(page);
  await expect(page.locator('.account .who')).toHaveText('Ms Teacher');
  await expect(page.getByRole('heading', { name: 'Create an exam' })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(page.locator('.notice[role=status]')).toHaveText('You are signed out.');
  await page.goto('/teacher');
  await expect(page).toHaveURL(/\/login\?next=/);
});

test('a student browser can reach the exams but not the teacher pages or their data', async ({ page, request }) => {
  await page.goto('/exams');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  expect((await request.get('/api/v1/exams')).status()).toBe(401);
  const fn = await request.post('/sfn/teacher/list_exams', { form: {} });
  expect(fn.status()).toBe(401);
  await page.goto('/teacher');
  await expect(page).toHaveURL(/\/login/);
});
