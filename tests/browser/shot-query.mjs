// node tests/browser/shot-query.mjs OUT.png: the Query page with a result.
import { launch, BASE } from './lib.mjs';
const { browser, page } = await launch();
await page.goto(BASE + '/query');
await page.locator('#sql').fill('SELECT country, sum(revenue) AS revenue, sum(orders) AS orders\nFROM marts.revenue_by_country\nWHERE status = \'paid\'\nGROUP BY 1 ORDER BY 2 DESC');
await page.locator('#run-sql').click();
await page.locator('#result table').waitFor();
await page.screenshot({ path: process.argv[2] });
await browser.close();
