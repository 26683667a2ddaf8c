// Drive the style studio (notebooks/07_style_studio.ipynb) in a real JupyterLab with headless
// Chromium, pressing its buttons and taking screenshots before, during and after a run.
//
// Not part of CI. To run it (Debian, as in the course's development machines):
//   apt-get install chromium
//   (mkdir -p /tmp/pw && cd /tmp/pw && npm init -y && npm install playwright-core)
//   mkdir -p /tmp/studio_demo
//   (cd /tmp/studio_demo && NST_QUICK=1 PYTHONPATH=$PWD_OF_REPO jupyter lab --allow-root \
//        --no-browser --port 8899 --ServerApp.token=nst --ServerApp.ip=127.0.0.1 &)
//   NODE_PATH=/tmp/pw/node_modules node scripts/drive_studio.js
// The script copies the notebook into /tmp/studio_demo itself, so that JupyterLab's autosave
// cannot store outputs in the repository's notebook. Environment variables:
//   STUDIO_KERNEL  kernel to run the copy with (default python3). The studio's mode follows
//                  the kernel: "thread" with ipykernel 7, "main" with ipykernel 6 (as in Colab).
//   STUDIO_SHOTS   folder for the screenshots (default /tmp/studio_shots)
//   STUDIO_PREFIX  prefix of the screenshot names (default: the kernel's name)
// Chromium gets a new, empty profile (--user-data-dir) every time.
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const kernel = process.env.STUDIO_KERNEL || 'python3';
const shots = process.env.STUDIO_SHOTS || '/tmp/studio_shots';
const prefix = process.env.STUDIO_PREFIX || kernel;
const served = '/tmp/studio_demo';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const shot = async (page, name) => {
  // JupyterLab asks once whether to fetch its news: answer, so that the toast leaves the shots.
  // (It may still be sliding in: wait for it to settle, and to be gone after the click.)
  const no = page.locator('.Toastify__toast-container button:text-is("No")').first();
  if (await no.count()) {
    await no.click({ timeout: 5000 }).catch(() => {});
    await no.waitFor({ state: 'detached', timeout: 3000 }).catch(() => {});
  }
  await page.screenshot({ path: `${shots}/${prefix}_${name}.png` });
};

function copyNotebook() {
  const source = path.join(__dirname, '..', 'notebooks', '07_style_studio.ipynb');
  const notebook = JSON.parse(fs.readFileSync(source, 'utf8'));
  notebook.metadata.kernelspec = { name: kernel, display_name: kernel, language: 'python' };
  fs.mkdirSync(served, { recursive: true });
  fs.writeFileSync(path.join(served, '07_style_studio.ipynb'), JSON.stringify(notebook, null, 1));
}

// End a kernel left running for the notebook by an earlier drive: JupyterLab would reuse it
// and ignore the kernel named in the copy.
async function endOldSessions() {
  const api = 'http://127.0.0.1:8899/api/sessions';
  const sessions = await (await fetch(`${api}?token=nst`)).json();
  for (const session of sessions.filter((s) => s.path.endsWith('07_style_studio.ipynb'))) {
    await fetch(`${api}/${session.id}?token=nst`, { method: 'DELETE' });
  }
}

(async () => {
  fs.mkdirSync(shots, { recursive: true });
  await endOldSessions();
  copyNotebook();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1500, height: 1400 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || (await context.newPage());
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
  await shot(page, '1_before');

  // What the page shows: the progress bar's width and the status line.
  const bar = studio.locator('.widget-hprogress .progress-bar').first();
  const state = async () => {
    const width = await bar.evaluate((e) => e.style.width, null, { timeout: 2000 })
      .catch(() => '?');
    const texts = await studio.locator('.widget-html').allInnerTexts();
    const status = texts.find((t) => /step|Running|Stop|done|Saved|fail/i.test(t)) || '';
    const preview = await studio.locator('img').evaluateAll(
      (images) => images.filter((i) => i.naturalWidth > 100 && i.offsetParent !== null).length);
    return `bar ${width} | images larger than the thumbnails ${preview} | ${status.replace(/\s+/g, ' ')}`;
  };

  // Press buttons: choose a style thumbnail, set size and steps through the slider readouts.
  await studio.locator('button:has-text("udnie")').click();
  const setSlider = async (label, value) => {
    const readout = studio.locator(`.widget-slider:has(label:text-is("${label}")) .widget-readout`);
    await readout.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type(String(value));
    await page.keyboard.press('Enter');
  };
  await setSlider('size (px)', 128);
  await setSlider('steps', 500);
  await sleep(500);
  const started = Date.now();
  const clock = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  await studio.locator('button:has-text("Run")').click();
  for (let i = 0; i < 12; i++) {  // a look at the page every 2.5 s
    await sleep(2500);
    console.log(`${clock()}: ${await state()}`);
  }
  await studio.locator('.widget-image >> nth=-2').scrollIntoViewIfNeeded().catch(() => {});
  await shot(page, '2_during');
  console.log(`${clock()} screenshot 2: ${await state()}`);
  await sleep(6000);
  await shot(page, '3_during_later');
  console.log(`${clock()} screenshot 3: ${await state()}`);

  await studio.locator('button:has-text("Stop")').click();
  const stopped = Date.now();
  await studio.locator('.widget-html:has-text("stopped early")').waitFor({ timeout: 240000 });
  console.log(`stopped ${((Date.now() - stopped) / 1000).toFixed(1)} s after the Stop click`);
  await sleep(2000);
  await studio.locator('button:has-text("Save")').click();
  await studio.locator('.widget-html:has-text("Saved")').waitFor({ timeout: 30000 });
  await sleep(1500);
  await shot(page, '4_after_stop_and_save');
  console.log(`after Stop and Save: ${await state()}`);

  // The kernel must still run cells after a run started by a click (in "main" mode the cells
  // run meanwhile are held back and run afterwards): run the next cell, section 2's demo.
  await page.locator('.jp-Notebook .jp-Cell >> nth=7').click();
  await page.keyboard.press('Escape');
  await page.keyboard.press('Shift+Enter');
  await page.locator('text=the studio runs in mode').waitFor({ timeout: 60000 });
  await sleep(1000);
  const demo = await page.locator('.jp-OutputArea-output:has-text("the studio runs in mode")')
    .innerText();
  console.log('section 2 cell printed:', demo.replace(/\s+/g, ' '));
  await page.locator('.jp-Notebook .jp-Cell >> nth=7').scrollIntoViewIfNeeded();
  await shot(page, '5_next_cell_ran');
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
})().catch((e) => { console.error('FAILED', e); process.exit(1); });
