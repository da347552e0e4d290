import { findSecretLeaks } from './leak-scan';

describe('findSecretLeaks', () => {
  const key = 'smcp_' + 'ab12'.repeat(16);
  it('finds a whole key, a truncated key and a base64 copy, and says where', () => {
    const leaks = findSecretLeaks(
      [
        'nothing here',
        `x ${key} y`,
        `prefix ${key.slice(0, 40)}`,
        Buffer.from(`db ${Buffer.from(key).toString('base64')}`),
      ],
      [key],
    );
    expect(leaks.map((l) => l.textIndex)).toEqual([1, 2, 3]);
    expect(leaks[0]!.at).toBe(2);
    expect(JSON.stringify(leaks)).not.toContain(key.slice(6));
  });
  it('does not flag the fixed prefix or a redacted key', () => {
    expect(findSecretLeaks(['smcp_[REDACTED]', 'smcp_ab12'], [key])).toEqual([]);
  });
});
