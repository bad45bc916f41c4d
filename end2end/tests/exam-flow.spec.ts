import { test, expect, Browser } from '@playwright/test';
import { upload, hydrated, shot } from './helpers';

// Teacher uploads, watches generation, reviews and publishes; a student (second browser
// context) joins with the code the teacher's page shows, answers half, reloads, finishes and
// submits; the teacher's results page, open meanwhile, shows the submission without a reload.
test('teacher to student to results, live', async ({ page: teacher, browser }) => {
  const student = await (browser as Browser).newContext({ storageState: { cookies: [], origins: [] } }).then((c) => c.newPage());
  await student.goto('/join');
  await hydrated(student);
  await shot(student, 'student-join');

  // Record what the teacher's page is told over the live socket, and whether the upload
  // progress bar ever appears (generation is fast, so it is watched for, not waited for).
  const frames: any[] = [];
  teacher.on('websocket', (ws) => ws.on('framereceived', (f) => {
    try { frames.push(JSON.parse(String(f.payload))); } catch { /* ping */ }
  }));
  await teacher.goto('/teacher');
  await hydrated(teacher);
  await shot(teacher, 'teacher-upload');
  await teacher.evaluate(() => {
    (window as any).sawProgress = false;
    new MutationObserver(() => {
      if (document.querySelector('progress[aria-label="Upload progress"]')) (window as any).sawProgress = true;
    }).observe(document.body, { childList: true, subtree: true });
  });
  await upload(teacher, 'lecture.pdf', { mcq: 4, options: 4, tf: 2, title: 'History of computing' }, { navigate: false });
  await expect(teacher).toHaveURL(/\/teacher\/exams\/[a-z0-9]+$/);
  const examId = teacher.url().split('/').pop()!;
  await expect(teacher.getByRole('heading', { level: 1 })).toHaveText('History of computing');
  await shot(teacher, 'teacher-progress');
  expect(await teacher.evaluate(() => (window as any).sawProgress)).toBe(true);
  await expect.poll(() => frames.filter((f) => f.exam_id === examId).map((f) => f.stage))
    .toEqual(['stored', 'extracting', 'generating', 'ready']);

  // Generation reaches draft; the review shows every question with its source quote.
  await expect(teacher.locator('.pill')).toHaveText('Draft');
  const questions = teacher.locator('ol.questions > li');
  await expect(questions).toHaveCount(6);
  await expect(teacher.locator('blockquote.source')).toHaveCount(6);
  await expect(teacher.locator('.tag', { hasText: 'correct answer' })).toHaveCount(6);
  await shot(teacher, 'teacher-review');

  // Publishing; the page shows the join code, its link and a QR code of the link.
  await teacher.getByRole('button', { name: 'Publish exam' }).click();
  await expect(teacher.locator('.pill')).toHaveText('Published');
  const code = (await teacher.locator('.join-code').getAttribute('data-join-code'))!;
  expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
  await expect(teacher.locator('.join-code')).toHaveText(`${code.slice(0, 4)}-${code.slice(4)}`);
  const joinLink = await teacher.getByLabel('Link').inputValue();
  expect(joinLink).toMatch(new RegExp(`/join\\?code=${code}$`));
  const qr = teacher.locator('img.join-qr');
  await expect(qr).toHaveAttribute('alt', /QR code of the join link/);
  await expect.poll(() => qr.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  await shot(teacher, 'teacher-join-code');

  // The teacher watches results.
  await teacher.goto(`/teacher/exams/${examId}/results`);
  await hydrated(teacher);
  await expect(teacher.getByText('No submissions yet')).toBeVisible();

  // The student opens the link (the code is filled in), gives a name and joins.
  await student.goto(joinLink);
  await expect(student.getByLabel('Join code')).toHaveValue(code);
  await student.getByLabel('Your name').fill('Ada Lovelace');
  await student.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(student).toHaveURL(new RegExp(`/exams/${examId}$`));
  await hydrated(student);
  await expect(student.getByText('Hello, Ada Lovelace')).toBeVisible();
  await shot(student, 'student-joined');

  // The student answers three of six, reloads, and finds them still chosen.
  await student.getByRole('button', { name: 'Start the exam' }).click();
  await expect(student.getByText('Question 1 of 6')).toBeVisible();
  const chosen: string[] = [];
  for (let i = 0; i < 3; i++) {
    const option = student.locator('fieldset.question-take input[type=radio]').first();
    chosen.push((await option.getAttribute('id'))!);
    await option.check();
    await expect(student.locator('.save-state')).toHaveText('✓ Answer saved');
    await student.getByRole('button', { name: 'Next →' }).click();
  }
  await shot(student, 'student-question');
  await student.reload();
  await hydrated(student);
  await expect(student.getByText(/Question \d of 6 · 3 answered/)).toBeVisible();
  for (let i = 0; i < 3; i++) {
    await student.getByRole('button', { name: new RegExp(`^Question ${i + 1}, answered`) }).click();
    await expect(student.locator(`#${chosen[i]}`)).toBeChecked();
  }
  for (let i = 3; i < 6; i++) {
    await student.getByRole('button', { name: new RegExp(`^Question ${i + 1}, not answered`) }).click();
    await student.locator('fieldset.question-take input[type=radio]').last().check();
    await expect(student.locator('.save-state')).toHaveText('✓ Answer saved');
  }
  await student.getByRole('button', { name: 'Submit answers' }).click();
  await expect(student.locator('.score h2')).toHaveText(/Passed|Not passed/);
  await expect(student.locator('.score .big')).toHaveText(/\d \/ 6 · \d+\.\d %/);
  await expect(student.locator('ol.questions > li')).toHaveCount(6);
  await shot(student, 'student-result');

  // The teacher's page got it live.
  await expect(teacher.locator('table.results tbody tr')).toHaveCount(1);
  await expect(teacher.locator('table.results tbody tr td').first()).toHaveText('Ada Lovelace');
  await shot(teacher, 'teacher-results');

  // The student's list has the exams this browser joined.
  await student.goto('/exams');
  await expect(student.getByRole('link', { name: 'History of computing', exact: true })).toBeVisible();
  await shot(student, 'student-list');
});

test('a malformed PDF fails with a readable reason; an oversize file is refused', async ({ page }) => {
  await upload(page, 'image-only.pdf');
  // The list's own pills match `.pill` too until the upload lands on the exam's page.
  await expect(page).toHaveURL(/\/teacher\/exams\/[^/]+$/);
  await expect(page.locator('.pill')).toHaveText('Failed');
  await expect(page.getByRole('alert')).toContainText('no extractable text');

  // The e2e server's limit is 2 MiB; a bigger file is refused before uploading.
  await page.goto('/teacher');
  await hydrated(page);
  await page.getByLabel('Lecture PDF').setInputFiles({ name: 'huge.pdf', mimeType: 'application/pdf', buffer: Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(3 * 1024 * 1024, 32)]) });
  await page.getByRole('button', { name: 'Upload and generate' }).click();
  await expect(page.locator('form.upload [role=alert]')).toContainText('the limit is 2 MiB');
  await expect(page.getByRole('button', { name: 'Upload and generate' })).toBeEnabled();
});
