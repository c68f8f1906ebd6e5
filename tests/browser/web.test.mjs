// Browser tests of the page (node tests/browser/web.test.mjs SCENARIO), run
// by tests/e2e/t9010-web-browser.sh against a real `dango web`. The shell
// holds the warehouse lock (flock) while a job starts so that its live
// phase can be seen; the test releases it by creating $RELEASE_FILE.
import { writeFileSync } from 'node:fs';
import { launch, check, BASE } from './lib.mjs';

const scenario = process.argv[2];
const release = () => writeFileSync(process.env.RELEASE_FILE, '');
const { browser, page, problems } = await launch();
page.setDefaultTimeout(90000);

try {
  if (scenario === 'sources-sync') {
    await page.goto(BASE + '/sources');
    const row = page.locator('tr[data-source="sales"]');
    check((await row.locator('[data-rows="sales"]').textContent()) === '2', 'sales shows 2 rows before the sync');
    await row.locator('[data-sync="sales"]').click();
    // the live phase while the sync waits for the lock the shell holds
    await row.locator('[data-phase]', { hasText: 'waiting for the lock' }).waitFor();
    check(await row.locator('.badge.running').isVisible(), 'a running badge during the sync');
    check(await row.locator('[data-sync="sales"]').isDisabled(), 'Sync Now is disabled while it runs');
    release();
    await row.locator('[data-rows="sales"]', { hasText: /^4$/ }).waitFor();
    await row.locator('.badge.synced').waitFor();
    check((await row.locator('td').nth(4).textContent()) === 'just now', 'last sync is "just now"');
    console.log('sources-sync: phase seen, then 4 rows');
  } else if (scenario === 'sync-error') {
    await page.goto(BASE + '/sources');
    const row = page.locator('tr[data-source="broken"]');
    await row.locator('[data-sync="broken"]').click();
    await row.locator('.badge.failed').waitFor();
    const err = await row.locator('.err').textContent();
    check(err.includes('missing.csv'), 'the error names the missing file: ' + err);
    console.log('sync-error: ' + err.split('\n')[0]);
  } else if (scenario === 'full-refresh') {
    await page.goto(BASE + '/sources');
    const row = page.locator('tr[data-source="sales"]');
    await row.locator('[data-menu="sales"]').click();
    await page.locator('.menu [data-act="full"]').click();
    const dlg = page.locator('.dialog');
    await dlg.waitFor();
    const text = await dlg.textContent();
    check(text.includes('raw_sales.sales') && text.includes('4 rows'), 'the dialog shows what is replaced: ' + text);
    await page.locator('#dialog-cancel').click();
    check(await page.locator('#dialog-backdrop').isHidden(), 'cancel closes the dialog');
    const runs = await (await page.request.get(BASE + '/api/runs?kind=sync&target=sales')).json();
    const before = runs.runs.length;
    await row.locator('[data-menu="sales"]').click();
    await page.locator('.menu [data-act="full"]').click();
    await page.locator('#dialog-ok').click();
    /* the row showed synced and 4 rows before the click too: wait for the new run itself */
    let after;
    for (let i = 0; i < 600; i++) {
      after = await (await page.request.get(BASE + '/api/runs?kind=sync&target=sales')).json();
      if (after.runs.length > before && after.runs[0].status !== 'running') break;
      await page.waitForTimeout(100);
    }
    await row.locator('.badge.synced').waitFor();
    await row.locator('[data-rows="sales"]', { hasText: /^4$/ }).waitFor();
    check(after.runs.length === before + 1, 'one more sync after OK: ' + before + ' runs before, after: ' +
      JSON.stringify(after.runs.map(r => [r.status, r.args])));
    check(after.runs[0].status === 'completed', 'the full refresh completed: ' + after.runs[0].status);
    check(JSON.stringify(after.runs[0].args).includes('--full-refresh'), 'it was a full refresh');
    console.log('full-refresh: confirmed, then done');
  } else if (scenario === 'model-run') {
    await page.goto(BASE + '/models');
    const row = page.locator('tr[data-model="stg_sales"]');
    await row.waitFor();
    await row.locator('[data-run="stg_sales"]').click();
    await row.locator('.badge.running').waitFor();
    release();
    await row.locator('.badge.success').waitFor();
    check((await row.locator('td').nth(5).textContent()) === 'just now', 'last run is "just now"');
    console.log('model-run: running, then success');
  } else if (scenario === 'lineage') {
    await page.goto(BASE + '/lineage');
    const node = page.locator('g.node[data-name="stg_sales"]');
    await node.waitFor();
    await node.click();
    const panel = page.locator('.lineage-panel');
    await panel.waitFor();
    const text = await panel.textContent();
    check(text.includes('stg_sales') && text.includes('1 upstream'), 'the panel describes the node: ' + text);
    check(await page.locator('g.node.sel[data-name="stg_sales"]').count() === 1, 'the node is selected');
    check(await page.locator('g.node.dim[data-name="sales.sales"]').count() === 0, 'its source is not dimmed');
    check(await page.locator('path.edge.hl').count() >= 1, 'its edge is highlighted');
    // zoom and pan change the view
    const before = await page.locator('svg > g').getAttribute('transform');
    await page.mouse.move(600, 400);
    await page.mouse.wheel(0, -300);
    await page.waitForTimeout(100);
    check((await page.locator('svg > g').getAttribute('transform')) !== before, 'the wheel zooms');
    await page.locator('#lineage-open').click();
    await page.waitForURL(BASE + '/models/stg_sales');
    await page.locator('h2', { hasText: /^SQL$/ }).waitFor();
    console.log('lineage: node clicked, model page opened');
  } else if (scenario === 'query') {
    await page.goto(BASE + '/query');
    await page.locator('#sql').fill('SELECT id, amount FROM raw_sales.sales ORDER BY id');
    await page.locator('#run-sql').click();
    await page.locator('#result table').waitFor();
    const cells = await page.locator('#result tbody tr:first-child td').allTextContents();
    check(cells.join('|') === '1|9.5', 'first row: ' + cells.join('|'));
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#csv').click()]);
    const path = await download.path();
    const { readFileSync } = await import('node:fs');
    const csv = readFileSync(path, 'utf8');
    check(csv.startsWith('id,amount\n1,9.5\n'), 'the CSV download: ' + csv.slice(0, 40));
    await page.locator('#sql').fill("COPY raw_sales.sales TO '/tmp/x.csv'");
    await page.locator('#run-sql').click();
    await page.locator('.errbox', { hasText: 'disabled by configuration' }).waitFor();
    console.log('query: rows, CSV, refusal');
  } else if (scenario === 'schedule-run') {
    // Run now: the row shows it queued, then its result; the run's page has the log
    await page.goto(BASE + '/schedules');
    const row = page.locator('tr[data-schedule="tick"]');
    check((await row.locator('[data-last]').textContent()).includes('never run'), 'tick never ran before');
    check((await row.locator('[data-next]').textContent()).includes('01-01 00:00'), 'next run shown: ' + await row.locator('[data-next]').textContent());
    await row.locator('[data-runnow="tick"]').click();
    check(await row.locator('[data-runnow="tick"]').isDisabled(), 'Run now is disabled while it runs');
    await row.locator('[data-last] .badge.completed', { hasText: 'success' }).waitFor();
    const last = await row.locator('[data-last]').textContent();
    check(last.includes('run now'), 'the result says it was run by hand: ' + last);
    check(!(await row.locator('[data-runnow="tick"]').isDisabled()), 'Run now is enabled again');
    await row.locator('[data-last] a').click();
    await page.locator('pre.log', { hasText: 'hello from tick' }).waitFor();
    check((await page.locator('h1').textContent()).includes('sched-'), 'the run page of the scheduled run');
    // the Runs page lists it, as a scheduled job
    await page.goto(BASE + '/runs');
    await page.locator('td', { hasText: 'schedule tick' }).first().waitFor();
    // disable, then enable again
    await page.goto(BASE + '/schedules');
    await page.locator('[data-toggle="tick"]', { hasText: 'Disable' }).click();
    await page.locator('tr[data-schedule="tick"] .badge.disabled').waitFor();
    check((await page.locator('tr[data-schedule="tick"] [data-next]').textContent()) === '—', 'a disabled schedule has no next run');
    await page.locator('[data-toggle="tick"]', { hasText: 'Enable' }).click();
    await page.locator('tr[data-schedule="tick"] .badge.disabled').waitFor({ state: 'detached' });
    console.log('schedule-run: queued, success, log, disable/enable');
  } else if (scenario === 'drift-accept') {
    await page.goto(BASE + '/governance');
    const panel = page.locator('[data-drift="orders"]');
    await panel.waitFor();
    const text = await panel.textContent();
    check(text.includes('2 breaking') && text.includes('BIGINT') && text.includes('VARCHAR') && text.includes('column removed'),
          'the drift of orders: ' + text);
    check(await page.locator('[data-drift="users"]').isVisible(), 'the additive drift of users is listed too');
    const cred = page.locator('tr[data-cred="fb_ads"]');
    check((await cred.locator('[data-days]').textContent()) === '5 days', 'days to expiry: ' + await cred.locator('[data-days]').textContent());
    check((await cred.textContent()).includes('expiring'), 'the token is shown expiring');
    check(!(await page.content()).includes('SECRET'), 'no token in the page');
    await panel.locator('[data-accept="orders"]').click();
    const dlg = page.locator('.dialog');
    await dlg.waitFor();
    check((await dlg.textContent()).includes('orders.amount BIGINT -> VARCHAR'), 'the dialog names the breaking changes');
    await page.locator('#dialog-ok').click();
    await panel.waitFor({ state: 'detached' });
    check(await page.locator('[data-drift="users"]').isVisible(), 'users is still open');
    await page.goto(BASE + '/');
    await page.locator('#card-drift', { hasText: 'no breaking drift' }).waitFor();
    console.log('drift-accept: orders accepted and gone');
  } else if (scenario === 'pages') {
    // every page renders without an error in the console
    const extra = (process.env.PAGES || '').split(',').filter(Boolean);
    for (const p of (extra.length ? extra : ['/', '/sources', '/sources/sales', '/runs', '/models', '/models/stg_sales', '/lineage', '/query'])) {
      await page.goto(BASE + p);
      await page.waitForLoadState('networkidle');
      check(!(await page.locator('.errbox', { hasText: 'could not load' }).count()), p + ' loads');
      if (process.env.SHOT_DIR) await page.screenshot({ path: process.env.SHOT_DIR + '/' + (p.replace(/\//g, '_').replace(/^_/, '') || 'overview') + '.png' });
    }
    const run = await (await page.request.get(BASE + '/api/runs')).json();
    await page.goto(BASE + '/runs/' + run.runs[0].id);
    await page.locator('pre.log').waitFor();
    console.log('pages: all render');
  } else {
    throw new Error('unknown scenario ' + scenario);
  }
  check(!problems.length, 'no errors in the page: ' + problems.join('; '));
} catch (e) {
  console.error(e.message);
  try { await page.screenshot({ path: (process.env.FAIL_SHOT || '/tmp') + '/fail-' + scenario + '.png' }); } catch (e2) { /* ignore */ }
  await browser.close();
  process.exit(1);
}
await browser.close();
