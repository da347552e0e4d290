/**
 * Registers this service's webhook with Postato for one workspace and stores the returned secret:
 *   POSTATO_API_KEY=smcp_… npx tsx scripts/register-webhook.ts --workspace <ws> --url <public url>
 * The API key is read from the environment only, so it never lands in shell history or `ps` output.
 */
import { Command } from 'commander';
import { loadConfig, type Config } from '../src/config';
import { AppError } from '../src/errors';
import { systemClock } from '../src/clock';
import { openLedger } from '../src/ledger/open-ledger';
import { KeyVault } from '../src/runs/key-vault';
import type { WebhookSecretStore } from '../src/webhooks/webhook-event-sink';
import { registerPostatoWebhook, type RegisteredWebhook } from '../src/webhooks/webhook-registration';

/** Opens the store the secret goes to; `close` releases it (e.g. the database connection). */
export type OpenSecretStore = (config: Config) => Promise<{ store: WebhookSecretStore; close(): Promise<void> }>;

/** The ledger's secret store on DATABASE_URL (the same table the webhook route reads). */
export const openLedgerSecretStore: OpenSecretStore = async (config) => {
  const db = await openLedger(config.DATABASE_URL, systemClock);
  // Sealed with the service's KEY_ENCRYPTION_KEY when there is one, so the secret is not readable from the database.
  const vault = config.KEY_ENCRYPTION_KEY ? new KeyVault(config.KEY_ENCRYPTION_KEY) : undefined;
  return { store: db.ledger.webhookSecrets(vault), close: () => db.close() };
};

/** Parses the command line, registers the webhook and stores its secret. Returns what was registered. */
export async function runRegisterWebhook(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  openStore: OpenSecretStore = openLedgerSecretStore,
): Promise<RegisteredWebhook> {
  const program = new Command()
    .name('register-webhook')
    .description('Register the Postato webhook of this service for a workspace (API key from POSTATO_API_KEY).')
    .requiredOption('--workspace <id>', 'Postato workspace id (wks_…)')
    .option('--url <public url>', 'public https:// URL of this service (default: PUBLIC_URL)')
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  const opts = program.opts<{ workspace: string; url?: string }>();
  const config = loadConfig(env);
  const apiKey = env.POSTATO_API_KEY?.trim();
  if (!apiKey)
    throw new AppError(
      'missing_api_key',
      'Set POSTATO_API_KEY in the environment (not as a flag) to the key of the workspace.',
      { status: 400 },
    );
  const publicUrl = opts.url ?? config.PUBLIC_URL;
  if (!publicUrl)
    throw new AppError('missing_url', 'Pass --url <public https URL of this service> or set PUBLIC_URL.', {
      status: 400,
    });
  // Open the store first: the secret is shown only once, so registering without a place to keep it would lose it.
  const { store, close } = await openStore(config);
  try {
    return await registerPostatoWebhook({
      apiUrl: config.POSTATO_API_URL,
      apiKey,
      workspaceId: opts.workspace,
      publicUrl,
      store,
      timeoutMs: config.POSTATO_TIMEOUT_MS,
    });
  } finally {
    await close();
  }
}

if (require.main === module) {
  runRegisterWebhook(process.argv.slice(2), process.env).then(
    (r) =>
      console.log(
        `Webhook ${r.webhookId ?? ''} registered for ${r.url} (${r.events.join(', ')}); its secret is stored.`,
      ),
    (err: unknown) => {
      if (err instanceof Error && err.name === 'CommanderError')
        process.exit((err as Error & { exitCode?: number }).exitCode ?? 2);
      console.error(
        err instanceof AppError
          ? err.message
          : 'Registering the webhook failed: ' +
              (err instanceof Error ? err.message.replace(/smcp_[0-9a-fA-F]+/g, 'smcp_[REDACTED]') : String(err)),
      );
      process.exit(1);
    },
  );
}
