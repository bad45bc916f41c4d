import { Page, expect } from '@playwright/test';

// The student's pages get the stylesheet without the blocks style/main.css marks as the
// teacher's pages' only (scripts/build-site.sh). This checks, on the page as it is now, that
// the page has the student's stylesheet and that no rule left out of it matches anything on
// the page: had one matched, the page would look different with the full stylesheet.
// `shot()` runs it on every student page it photographs, so each state the tests reach
// (join form and its errors, the paper, the countdown, the report, the list) is covered.

/** The rules of the full stylesheet the student's leaves out that match something on `page`. */
export async function teacherOnlyRulesMatching(page: Page): Promise<{ sheet: string; matching: string[]; leftOut: number }> {
  return page.evaluate(async () => {
    type Rule = { key: string; selector: string };
    const rules = (list: CSSRuleList, within = ''): Rule[] =>
      [...list].flatMap((r): Rule[] => {
        if (r instanceof CSSStyleRule) return [{ key: `${within}${r.cssText}`, selector: r.selectorText }];
        if (r instanceof CSSMediaRule) return rules(r.cssRules, `${within}@media ${r.conditionText} `);
        return [];
      });
    const link = document.querySelector<HTMLLinkElement>('link[rel="stylesheet"]');
    const kept = new Set((link?.sheet ? rules(link.sheet.cssRules) : []).map((r) => r.key));
    // The full stylesheet, as a page outside the student bundle links it.
    const other = await (await fetch('/login')).text();
    const href = other.match(/<link[^>]+href="([^"]+\.css)"/)?.[1];
    const full = new CSSStyleSheet();
    full.replaceSync(href ? await (await fetch(href)).text() : '');
    const leftOut = rules(full.cssRules).filter((r) => !kept.has(r.key));
    const matches = (selector: string) => {
      // States the page may not be in right now still match the element: drop them, and the
      // pseudo-elements, and ask whether the element is there.
      const element = selector.replace(/::?(before|after|placeholder|marker|hover|focus-visible|focus-within|focus|active|visited|empty)\b/g, '').trim();
      try {
        return document.querySelector(element || '*') !== null;
      } catch {
        return true; // a selector this check cannot read: reported, to be looked at
      }
    };
    const matching = leftOut.filter((r) => r.selector.split(',').some(matches)).map((r) => r.key.slice(0, 200));
    return { sheet: link?.getAttribute('href') ?? '', matching, leftOut: leftOut.length };
  });
}

/** Whether `page` is one of the student bundle's (`/join`, `/exams`, `/exams/<id>`). */
export function isStudentPage(page: Page): boolean {
  const path = new URL(page.url()).pathname;
  return path === '/join' || path === '/exams' || /^\/exams\/[^/]+$/.test(path);
}

export async function expectStudentStylesheetComplete(page: Page) {
  const { sheet, matching, leftOut } = await teacherOnlyRulesMatching(page);
  expect(sheet, 'a student page links the student stylesheet').toMatch(/\/pkg\/student\.[0-9a-f]{16}\.css$/);
  expect(leftOut, 'the student stylesheet leaves the teacher pages\' rules out').toBeGreaterThan(0);
  expect(matching, `rules marked "teacher pages only" in style/main.css that style ${page.url()}`).toEqual([]);
}
