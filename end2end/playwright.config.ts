import { defineConfig } from '@playwright/test';

// The suite starts the real server (debug build from `make test`) on its own port with a fresh
// data directory, and drives Debian's Chromium: browser downloads are not possible here.
const port = Number(process.env.E2E_PORT ?? 3107);

// The teacher's browser state (the session cookie), made by signing in through the page once
// (tests/auth.setup.ts); tests that need a signed-out browser say so.
export const teacherState = '.auth/teacher.json';
export const teacher = { email: 'teacher@e2e.test', password: 'e2e teacher password' };

export default defineConfig({
  testDir: './tests',
  projects: [
    { name: 'sign-in', testMatch: /auth\.setup\.ts/ },
    { name: 'chromium', dependencies: ['sign-in'], use: { storageState: teacherState } },
  ],
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
  webServer: {
    command: 'bash ./start-server.sh',
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: { E2E_PORT: String(port), E2E_ADMIN_EMAIL: teacher.email, E2E_ADMIN_PASSWORD: teacher.password },
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
