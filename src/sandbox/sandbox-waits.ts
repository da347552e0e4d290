/**
 * Real-time waits of a fake server (simulated latency, hangs) that its close ends all at once. One set of pending
 * timers instead of an abort listener per wait: under load hundreds of requests wait out the latency together, and an
 * AbortSignal with hundreds of listeners costs a listener add and remove per request and warns past ten.
 */
export class SandboxWaits {
  private readonly pending = new Map<NodeJS.Timeout, (reason: Error) => void>();
  private closedWith: Error | null = null;

  /** Resolves after `ms` (unref'd, so a pending wait never keeps a process alive); rejects if `close` comes first. */
  wait(ms: number): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.pending.delete(timer);
          resolve();
        },
        Math.max(0, ms),
      );
      timer.unref();
      this.pending.set(timer, reject);
    });
  }

  /** Rejects every pending wait and every later one. */
  close(reason: Error = new Error('The server is closing.')): void {
    this.closedWith = reason;
    for (const [timer, reject] of this.pending) {
      clearTimeout(timer);
      reject(reason);
    }
    this.pending.clear();
  }
}
