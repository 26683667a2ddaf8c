// Drive the style studio (notebooks/07_style_studio.ipynb) in a real JupyterLab with headless
// Chromium, pressing its buttons and taking screenshots before, during and after a run.
//
// Not part of CI. To run it (Debian, as in the course's development machines):
//   apt-get install chromium && npm install playwright-core
//   mkdir /tmp/studio_demo && cp notebooks/07_style_studio.ipynb /tmp/studio_demo/
//   (cd /tmp/studio_demo && jupyter lab --allow-root --no-browser --port 8899 \
//        --ServerApp.token=nst --ServerApp.ip=127.0.0.1 &)
//   node scripts/drive_studio.js          # screenshots land in /tmp/shots
// A copy of the notebook is served so that JupyterLab's autosave cannot store outputs
// in the repository's notebook.
const { chromium } = require('playwright-core');
const fs = require('fs');
const shots = '/tmp/shots';
fs.mkdirSync(shots, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 1400 } });
  page.on('pageerror', (e) => console.log('pageerror', e.message));
  await page.goto('http://127.0.0.1:8899/lab/tree/07_style_studio.ipynb?token=nst');
  await page.waitForSelector('.jp-Notebook .jp-Cell', { timeout: 120000 });
  await sleep(4000);
  await page.locator('button:has-text("No")').click({ timeout: 5000 }).catch(() => {});
  // Select the first cell and run cells one by one until the studio has been shown.
  await page.click('.jp-Notebook .jp-Cell >> nth=0');
  await page.keyboard.press('Escape');
  for (let i = 0; i < 6; i++) { await page.keyboard.press('Shift+Enter'); await sleep(300); }
  await page.waitForSelector('text=Choose images and settings', { timeout: 240000 });
  await sleep(3000);
  const studio = page.locator('.jp-OutputArea-output:has-text("Last results")');
  await studio.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${shots}/1_before.png`, fullPage: false });

  // Press buttons: choose a style thumbnail, set size and steps through the slider readouts.
  await studio.locator('button:has-text("udnie")').click();
  const setSlider = async (label, value) => {
    const readout = studio.locator(`.widget-slider:has(label:text-is("${label}")) .widget-readout`);
    await readout.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(String(value));
    await page.keyboard.press('Enter');
  };
  await setSlider('size (px)', 256);
  await setSlider('steps', 60);
  await sleep(500);
  await studio.locator('button:has-text("Run")').click();
  await sleep(25000);
  await studio.locator('.widget-image >> nth=-2').scrollIntoViewIfNeeded().catch(() => {});
  await page.screenshot({ path: `${shots}/2_during.png` });
  console.log('status during:', await studio.locator('.widget-html').allInnerTexts());
  await studio.locator('button:has-text("Stop")').click();
  await studio.locator('.widget-html:has-text("stopped early")').waitFor({ timeout: 240000 });
  await sleep(2000);
  await studio.locator('button:has-text("Save")').click();
  await studio.locator('.widget-html:has-text("Saved")').waitFor({ timeout: 30000 });
  await sleep(1500);
  await page.screenshot({ path: `${shots}/3_after_stop_and_save.png` });
  console.log('status after:', (await studio.locator('.widget-html').allInnerTexts()).join(' | '));

  // A second, complete run with colours kept, to see the comparison row with two results.
  await studio.locator('select').nth(2).selectOption({ label: 'luminance' });
  await setSlider('steps', 15);
  await studio.locator('button:has-text("Run")').click();
  await studio.locator('.widget-html:has-text("done:")').waitFor({ timeout: 300000 });
  await sleep(2000);
  await studio.locator('text=Last results').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${shots}/4_second_run_comparison.png` });
  console.log('final status:', (await studio.locator('.widget-html').allInnerTexts()).join(' | '));
  await browser.close();
})().catch((e) => { console.error('FAILED', e); process.exit(1); });
