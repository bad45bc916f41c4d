import { test, expect } from '@playwright/test';
import { teacher, teacherState } from '../playwright.config';
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

test('a student joins by code and is refused the teacher pages and their data', async ({ page, playwright, baseURL }) => {
  // The teacher publishes a bank through the API (their browser state, as a script would).
  const teacherApi = await playwright.request.newContext({ baseURL, storageState: teacherState });
  const bank = [{ question: 'Which planet is largest?', options: ['Jupiter', 'Mars', 'Venus'], correct_answer: 'Jupiter' }];
  const created = await teacherApi.post('/api/v1/exams', {
    multipart: { file: { name: 'planets.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bank)) }, title: 'Planets' },
  });
  expect(created.status()).toBe(201);
  const { id } = await created.json();
  expect((await teacherApi.post(`/api/v1/exams/${id}/publish`)).status()).toBe(200);
  const code: string = (await (await teacherApi.get(`/api/v1/exams/${id}/questions`)).json()).join_code;

  // A wrong code is explained next to its field; the right one (typed loosely) joins.
  await page.goto('/join');
  await hydrated(page);
  await page.getByLabel('Join code').fill('ZZZZ-ZZZZ');
  await page.getByLabel('Your name').fill('Stu Dent');
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(page.locator('#code-error')).toHaveText(/No exam has this join code/);
  await expect(page.getByLabel('Join code')).toHaveAttribute('aria-invalid', 'true');
  await shot(page, 'student-join-error');
  await page.getByLabel('Join code').fill(`${code.slice(0, 4).toLowerCase()} ${code.slice(4)}`);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/exams/${id}$`));
  await hydrated(page);
  await expect(page.getByText('Hello, Stu Dent')).toBeVisible();
  const me = await (await page.request.get('/api/v1/auth/me')).json();
  expect(me).toMatchObject({ role: 'student', via: 'join', exams: { [id]: 'Stu Dent' } });

  // Joined or not, a student is no teacher.
  expect((await page.request.get('/api/v1/exams')).status()).toBe(401);
  expect((await page.request.get(`/api/v1/exams/${id}/questions`)).status()).toBe(401);
  expect((await page.request.post('/sfn/teacher/list_exams', { form: {} })).status()).toBe(401);
  await page.goto(`/teacher/exams/${id}`);
  await expect(page).toHaveURL(/\/login/);
  await teacherApi.dispose();
});
