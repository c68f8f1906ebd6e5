// node tests/browser/shot.mjs PATH OUT.png: a screenshot of one page.
import { launch, BASE } from './lib.mjs';
const [path, out] = process.argv.slice(2);
const { browser, page, problems } = await launch();
await page.goto(BASE + path);
await page.waitForTimeout(Number(process.env.SHOT_WAIT || 800));
await page.screenshot({ path: out, fullPage: process.env.SHOT_FULL === '1' });
await browser.close();
if (problems.length) { console.error(problems.join('\n')); process.exit(1); }
