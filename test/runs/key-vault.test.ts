/** The key vault: round trip, fresh IVs, tamper and wrong-key detection without echoing input, config wiring. */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config';
import { AppError } from '../../src/errors';
import { createLogger, silentLogger } from '../../src/logger';
import { KeyVault, keyVaultFromConfig } from '../../src/runs/key-vault';

const fakeApiKey = () => 'smcp_' + randomBytes(32).toString('hex');
const material = () => randomBytes(32).toString('base64');

function catchError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('KeyVault', () => {
  test('when a key is sealed and opened with the same material, then it comes back unchanged and never appears in the sealed text', () => {
    const vault = new KeyVault(material());
    const apiKey = fakeApiKey();
    const sealed = vault.encrypt(apiKey);
    expect(sealed).toMatch(/^v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(apiKey.slice(5));
    expect(vault.decrypt(sealed)).toBe(apiKey);
  });

  test('when the same key is sealed twice, then the outputs differ (fresh IV) and both open', () => {
    const vault = new KeyVault(randomBytes(32).toString('hex'));
    const apiKey = fakeApiKey();
    const [s1, s2] = [vault.encrypt(apiKey), vault.encrypt(apiKey)];
    expect(s1).not.toBe(s2);
    expect(vault.decrypt(s1)).toBe(apiKey);
    expect(vault.decrypt(s2)).toBe(apiKey);
  });

  test.each([
    ['ciphertext', 3],
    ['auth tag', 2],
    ['iv', 1],
  ])(
    'when one bit of the %s is flipped, then decrypt throws sealed_secret_unreadable without echoing the input',
    (_name, part) => {
      const vault = new KeyVault(material());
      const sealed = vault.encrypt(fakeApiKey());
      const parts = sealed.split(':');
      const bytes = Buffer.from(parts[part] as string, 'base64url');
      bytes[0] = (bytes[0] as number) ^ 1;
      parts[part] = bytes.toString('base64url');
      const tampered = parts.join(':');
      const err = catchError(() => vault.decrypt(tampered));
      expect(err.code).toBe('sealed_secret_unreadable');
      expect(err.message).not.toContain(tampered);
      expect(err.message).not.toContain(parts[3] as string);
      expect(err.message).toMatch(/Start the run again/);
    },
  );

  test('when the sealed text is not in the v1 format, then decrypt throws the same clear error', () => {
    const vault = new KeyVault(material());
    for (const bad of ['', 'v2:a:b:c', 'v1:only-two', fakeApiKey()]) {
      const err = catchError(() => vault.decrypt(bad));
      expect(err.code).toBe('sealed_secret_unreadable');
      if (bad) expect(err.message).not.toContain(bad);
    }
  });

  test('when a different key material is used to open, then decrypt fails instead of returning garbage', () => {
    const sealed = new KeyVault(material()).encrypt(fakeApiKey());
    expect(catchError(() => new KeyVault(material()).decrypt(sealed)).code).toBe('sealed_secret_unreadable');
  });

  test('when the key material is not 32 bytes, then construction fails with a message saying how to make one, not the material', () => {
    for (const bad of ['short', randomBytes(16).toString('base64'), randomBytes(31).toString('hex'), 'not base64 !!']) {
      const err = catchError(() => new KeyVault(bad));
      expect(err.code).toBe('invalid_encryption_key');
      expect(err.message).toMatch(/32 bytes/);
      expect(err.message).not.toContain(bad);
    }
  });

  test('when the material is base64url, then it is accepted like base64', () => {
    const raw = randomBytes(32);
    const sealed = new KeyVault(raw.toString('base64url')).encrypt('x');
    expect(new KeyVault(raw.toString('base64')).decrypt(sealed)).toBe('x');
  });
});

describe('keyVaultFromConfig', () => {
  test('when KEY_ENCRYPTION_KEY is set, then two vaults from it open each other’s values (runs resume after restart)', () => {
    const config = loadConfig({ KEY_ENCRYPTION_KEY: material() });
    const sealed = keyVaultFromConfig(config, silentLogger).encrypt('k');
    expect(keyVaultFromConfig(config, silentLogger).decrypt(sealed)).toBe('k');
  });

  test('when KEY_ENCRYPTION_KEY is missing, then an ephemeral key is used and a warning says runs cannot resume', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const logger = createLogger({ level: 'warn', destination });
    const config = loadConfig({});
    const v1 = keyVaultFromConfig(config, logger);
    const v2 = keyVaultFromConfig(config, logger);
    expect(v1.decrypt(v1.encrypt('k'))).toBe('k');
    expect(() => v2.decrypt(v1.encrypt('k'))).toThrow(AppError);
    expect(lines.join('')).toMatch(/KEY_ENCRYPTION_KEY is not set/);
  });
});
