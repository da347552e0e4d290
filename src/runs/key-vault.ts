/**
 * Seals the Postato API key while a run needs it (AES-256-GCM with a random IV and an auth tag), so the ledger never
 * holds it in clear. The run service erases the sealed value when the run ends; nothing here logs or echoes a secret.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../logger';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Parses 32 bytes of key material given as 64 hex characters or as base64 (standard or url-safe). */
function parseKeyMaterial(material: string): Buffer {
  const text = material.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 32) return bytes;
  }
  throw new AppError(
    'invalid_encryption_key',
    'KEY_ENCRYPTION_KEY must be exactly 32 bytes, written as 64 hex characters or as base64 ' +
      "(generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('base64'))\").",
  );
}

/** Thrown when a sealed value was altered, is not in the vault's format, or was sealed with another key. */
function unreadable(cause?: unknown): AppError {
  return new AppError(
    'sealed_secret_unreadable',
    'A stored Postato API key could not be decrypted: it was damaged, or sealed with a different KEY_ENCRYPTION_KEY ' +
      '(for example after a restart without one). Start the run again from the sidebar so it sends the key anew.',
    { status: 500, cause },
  );
}

/** AES-256-GCM sealing in the versioned format "v1:<iv>:<tag>:<ciphertext>" (base64url parts). */
export class KeyVault {
  readonly #key: Buffer;

  constructor(keyMaterial: string) {
    this.#key = parseKeyMaterial(keyMaterial);
  }

  /** Seals a secret; every call uses a fresh IV, so equal inputs give different outputs. */
  encrypt(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(VERSION));
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join(':');
  }

  /** Opens a sealed secret; throws AppError `sealed_secret_unreadable` (never echoing the input) if it fails. */
  decrypt(sealed: string): string {
    const parts = typeof sealed === 'string' ? sealed.split(':') : [];
    if (parts.length !== 4 || parts[0] !== VERSION) throw unreadable();
    const [, ivText, tagText, ctText] = parts as [string, string, string, string];
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw unreadable();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(VERSION));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      // The crypto error carries no secret, but it adds nothing for the user either.
      throw unreadable();
    }
  }
}

/** The vault from KEY_ENCRYPTION_KEY, or an ephemeral random key with a warning (runs then can't resume across restarts). */
export function keyVaultFromConfig(config: Config, logger: Logger): KeyVault {
  if (config.KEY_ENCRYPTION_KEY) return new KeyVault(config.KEY_ENCRYPTION_KEY);
  logger.warn(
    'KEY_ENCRYPTION_KEY is not set: using a random key for this process only. Runs interrupted by a restart cannot ' +
      'resume until the user publishes again. Set KEY_ENCRYPTION_KEY (32 bytes, base64 or hex) in production.',
  );
  return new KeyVault(randomBytes(32).toString('base64'));
}
