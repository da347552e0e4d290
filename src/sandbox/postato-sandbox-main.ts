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

/** Parses the sandbox's environment variables, or throws one error listing every bad one. */
export function parseSandboxEnv(env: NodeJS.ProcessEnv): { port: number; host: string; settings: SandboxSettingsPatch } {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || 'env'}: ${i.message}`);
    throw new Error(`Invalid sandbox environment:\n${lines.join('\n')}`);
  }
  return { port: parsed.data.SANDBOX_PORT, host: parsed.data.SANDBOX_HOST, settings: parsed.data.SANDBOX_SETTINGS as SandboxSettingsPatch };
}

async function main(): Promise<void> {
  const { port, host, settings } = parseSandboxEnv(process.env);
  const sandbox = await startPostatoSandbox({ port, host, settings });
  console.log(`Postato sandbox listening on ${sandbox.url}`);
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
