/**
 * `npm run sandbox`: starts the Postato sandbox on SANDBOX_HOST:SANDBOX_PORT (default 127.0.0.1:4010), ready for a
 * demo with no configuration; SANDBOX_SETTINGS may hold a JSON settings patch. Closes on SIGTERM/SIGINT.
 */
import { z } from 'zod';
import { startPostatoSandbox } from './postato-sandbox';
import { sandboxSettingsPatchSchema, type SandboxSettingsPatch } from './postato-sandbox-settings';

const envSchema = z.object({
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
  SANDBOX_SETTINGS: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text.trim() === '') return {};
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(sandboxSettingsPatchSchema),
});

/**
 * The standalone sandbox is demo-ready: accounts are created the first time a post names them. Its account list would
 * start empty and a dry run would then refuse every account, so unless the settings choose accounts (or the list),
 * the list answers 404 like a Postato without that endpoint, and the dry run says the account check was skipped.
 * Media ids it never issued (the sample campaign's) are accepted unless the settings say otherwise.
 */
export function withDemoDefaults(settings: SandboxSettingsPatch): SandboxSettingsPatch {
  const media = settings.media?.unknownRefs ? settings.media : { ...settings.media, unknownRefs: 'accept' as const };
  if (settings.accounts !== undefined || settings.accountsEndpoint !== undefined) return { ...settings, media };
  return { ...settings, accountsEndpoint: false, media };
}

/** Parses the sandbox's environment variables, or throws one error listing every bad one. */
export function parseSandboxEnv(env: NodeJS.ProcessEnv): {
  port: number;
  host: string;
  settings: SandboxSettingsPatch;
} {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || 'env'}: ${i.message}`);
    throw new Error(`Invalid sandbox environment:\n${lines.join('\n')}`);
  }
  return {
    port: parsed.data.SANDBOX_PORT,
    host: parsed.data.SANDBOX_HOST,
    settings: parsed.data.SANDBOX_SETTINGS as SandboxSettingsPatch,
  };
}

async function main(): Promise<void> {
  const { port, host, settings } = parseSandboxEnv(process.env);
  const effective = withDemoDefaults(settings);
  const sandbox = await startPostatoSandbox({ port, host, settings: effective });
  console.log(`Postato sandbox listening on ${sandbox.url}`);
  if (effective.accountsEndpoint === false && effective.accounts === undefined) {
    console.log(
      'Accounts are created the first time a post names them; the account list is off, so dry runs skip the account check.',
    );
    console.log(
      'For a fixed list: SANDBOX_SETTINGS=\'{"accounts":[{"id":"acc_1","workspaceId":"wks_1","platform":"twitter","username":"brand","status":"connected"}]}\'',
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`Postato sandbox: ${signal} received, closing`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
