import { test as setup, expect } from '@playwright/test';
import { teacher, teacherState } from '../playwright.config';

// Signs in through the sign-in page, with the keyboard, and keeps the session for the suite.
setup('sign in as the teacher', async ({ page }) => {
  await page.goto('/teacher');
  await expect(page).toHaveURL(/\/login\?next=%2Fteacher$/);
  await page.getByLabel('Email').fill(teacher.email);
  await page.getByLabel('Password').fill(teacher.password);
  await page.getByLabel('Password').press('Enter');
  await expect(page).toHaveURL(/\/teacher$/);
  await expect(page.locator('.account .who')).toHaveText('Ms Teacher');
  await page.context().storageState({ path: teacherState });
});
