// What the headless-Chromium tests can share: launching Debian's Chromium (playwright-core only
// drives it), a log of what pages exchanged with accountd for failure messages, and running a
// function against the page's SDK client with an SDK error's fields brought back to Node.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Chromium; missing is an error, not a skip (scripts/test installs it). */
export function launchChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or run scripts/test`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
}

/** The responses pages got from `base` (accountd), one line each, with the body of JSON errors. */
export class Exchanges {
  constructor(base) {
    this.base = base;
    this.lines = []; // promises of lines, in order
  }

  /** Records `page`'s responses from `base` and its uncaught errors; returns `page`. */
  watch(page) {
    page.on('response', (response) => {
      const request = response.request();
      if (!request.url().startsWith(this.base)) return;
      const status = response.status();
      const head = `${request.method()} ${request.url().slice(0, 160)} -> ${status}`;
      const location = response.headers().location;
      const json = (response.headers()['content-type'] ?? '').includes('json');
      this.lines.push(status >= 400 && json
        ? response.text().then((t) => `${head} ${t.slice(0, 400)}`, () => head)
        : Promise.resolve(location ? `${head} location: ${location.slice(0, 160)}` : head));
    });
    page.on('pageerror', (e) => this.lines.push(Promise.resolve(`page error: ${e.message}`)));
    return page;
  }

  async recent(n = 8) {
    const lines = await Promise.all(this.lines.slice(-n));
    return `recent exchanges with accountd:\n${lines.map((l) => `  ${l}`).join('\n')}`;
  }
}

/**
 * Runs `fn(window.client, arg)` in `page` once the page's `window.ready` settles; its value, or an
 * Error carrying the thrown SDK error's fields (`sdkError`) and `context` (e.g. recent exchanges).
 */
export async function inPage(page, fn, arg, context = async () => '') {
  await page.waitForFunction(() => window.ready !== undefined);
  const r = await page.evaluate(async ({ src, arg }) => {
    const f = (0, eval)(`(${src})`);
    try {
      await window.ready;
      return { value: await f(window.client, arg) };
    } catch (e) {
      const fields = ['error', 'error_description', 'code', 'status', 'type', 'title', 'detail', 'validation_errors'];
      const extra = Object.fromEntries(fields.filter((k) => e?.[k] !== undefined).map((k) => [k, e[k]]));
      return { error: { name: e?.name, message: e?.message ?? String(e), ...extra } };
    }
  }, { src: fn.toString(), arg });
  if (r.error) {
    throw Object.assign(new Error(`${r.error.name}: ${r.error.message} ${JSON.stringify(r.error)}\n${await context()}`),
      { sdkError: r.error });
  }
  return r.value;
}
