import { APIRequestContext, Browser, BrowserContextOptions, Page, expect } from '@playwright/test';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { expectStudentStylesheetComplete, isStudentPage } from './css';

export const fixtures = path.resolve(__dirname, '../../generator/tests/fixtures');
export const shots = path.resolve(__dirname, '../screenshots');
fs.mkdirSync(shots, { recursive: true });

/** Saves a screenshot; on a student's page, also checks its stylesheet left out nothing it uses (css.ts). */
export async function shot(page: Page, name: string) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  if (isStudentPage(page)) await expectStudentStylesheetComplete(page);
}

/** Waits until the page is hydrated (the live badge turns on once the WASM runs and the socket opens). */
export async function hydrated(page: Page) {
  await expect(page.locator('.live-badge')).toHaveText(/Live$/);
}

/** Uploads a PDF through the teacher form; returns the exam id from the URL it lands on. */
export async function upload(page: Page, file: string, counts: { mcq?: number; options?: number; tf?: number; title?: string } = {}, opts = { navigate: true }) {
  if (opts.navigate) {
    await page.goto('/teacher');
    await hydrated(page);
  }
  await page.getByLabel('Lecture PDF').setInputFiles(path.join(fixtures, file));
  if (counts.title) await page.getByLabel(/Exam title/).fill(counts.title);
  if (counts.mcq !== undefined) await page.getByLabel('Multiple choice').fill(String(counts.mcq));
  if (counts.options !== undefined) await page.getByLabel('Options each').fill(String(counts.options));
  if (counts.tf !== undefined) await page.getByLabel('True / false').fill(String(counts.tf));
  await page.getByRole('button', { name: 'Upload and generate' }).click();
}

/** The exam's join code, as its teacher sees it (`request` is the teacher's). */
export async function joinCode(request: APIRequestContext, examId: string): Promise<string> {
  const exam = await (await request.get(`/api/v1/exams/${examId}/questions`)).json();
  expect(exam.join_code).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
  return exam.join_code;
}

/** A fresh browser (no teacher session), as a student's. */
export async function studentPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ ...options, storageState: { cookies: [], origins: [] } });
  return context.newPage();
}

/** Joins the exam through its page's form with the code and `name`; waits for the standing. */
export async function joinAs(page: Page, request: APIRequestContext, examId: string, name: string) {
  const code = await joinCode(request, examId);
  await page.goto(`/exams/${examId}`);
  await page.getByLabel('Join code').fill(code);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/exams/${examId}$`));
  await hydrated(page);
}

/** A student client of its own (as a script would be) joins with the code and submits `answers`. */
export async function submitAsStudent(playwright: { request: { newContext(o: object): Promise<APIRequestContext> } }, baseURL: string | undefined, request: APIRequestContext, examId: string, name: string, answers: Record<string, string>) {
  const code = await joinCode(request, examId);
  const student = await playwright.request.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const joined = await student.post(`/api/v1/exams/${examId}/join`, { data: { code, name } });
  expect(joined.status(), await joined.text()).toBe(200);
  const submitted = await student.post(`/api/v1/exams/${examId}/submissions`, { data: { answers } });
  expect(submitted.status(), await submitted.text()).toBe(200);
  await student.dispose();
}
