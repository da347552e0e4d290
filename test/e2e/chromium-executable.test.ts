import { existsSync } from 'node:fs';
import { chromiumExecutable } from './chromium-executable';

describe('the browser the e2e test drives', () => {
  it('refuses a CHROMIUM_PATH that points at nothing instead of silently using another browser', async () => {
    await expect(chromiumExecutable({ CHROMIUM_PATH: '/nonexistent/chromium' })).rejects.toThrow(
      /CHROMIUM_PATH is set to \/nonexistent\/chromium, but there is no file there/,
    );
  });

  it('without CHROMIUM_PATH finds a binary: the system one, or the one from @sparticuz/chromium', async () => {
    const found = await chromiumExecutable({});
    expect(existsSync(found.path)).toBe(true);
    expect(['system', '@sparticuz/chromium']).toContain(found.source);
    if (!existsSync('/usr/bin/chromium') && !existsSync('/usr/bin/chromium-browser')) {
      expect(found.source).toBe('@sparticuz/chromium');
    }
  });
});
