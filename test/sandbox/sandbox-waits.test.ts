// Waits of the fakes (simulated latency, hangs): many at once, all ended by one close, none after it.
import { SandboxWaits } from '../../src/sandbox/sandbox-waits';

describe('SandboxWaits', () => {
  it('when many requests wait at once, then each wait ends on its own and close finds nothing left to end', async () => {
    const waits = new SandboxWaits();
    await expect(Promise.all(Array.from({ length: 50 }, (_, i) => waits.wait(i % 5)))).resolves.toHaveLength(50);
    waits.close();
  });

  it('when the server closes, then every pending wait rejects with the reason, and so does any later one', async () => {
    const waits = new SandboxWaits();
    const reason = new Error('closing');
    const pending = Array.from({ length: 20 }, () => waits.wait(60_000));
    waits.close(reason);
    const settled = await Promise.allSettled(pending);
    expect(settled.every((s) => s.status === 'rejected' && s.reason === reason)).toBe(true);
    await expect(waits.wait(0)).rejects.toBe(reason);
  });
});
