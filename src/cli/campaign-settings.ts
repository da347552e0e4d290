/**
 * The campaign command's settings: where the service is and the two secrets it needs, from the environment (the
 * caller passes it in; `main` hands over process.env). Missing settings are named, their values never shown.
 */
import { z } from 'zod';
import { CampaignError } from './campaign-errors';

const schema = z.object({
  POSTATO_SHEETS_SERVICE_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
  AUTH_SHARED_SECRET: z.string().min(1),
  POSTATO_API_KEY: z.string().min(1),
  POSTATO_WORKSPACE_ID: z.string().min(1).optional(),
  POSTATO_SHEETS_USER_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:@+/=-]{1,128}$/)
    .optional(),
});

/** Validated settings (frozen). */
export type CampaignSettings = Readonly<z.infer<typeof schema>>;

const HINTS: Record<string, string> = {
  POSTATO_SHEETS_SERVICE_URL: 'the http(s) URL of the running service, e.g. http://127.0.0.1:8080',
  AUTH_SHARED_SECRET: "the service's shared secret",
  POSTATO_API_KEY: 'your Postato API key (smcp_…)',
  POSTATO_WORKSPACE_ID: 'a Postato workspace id',
  POSTATO_SHEETS_USER_ID: 'letters, digits and ._:@+/=- (1–128 characters)',
};

/** Reads the settings from `env`; one error naming every missing or bad variable. */
export function loadCampaignSettings(env: Record<string, string | undefined>): CampaignSettings {
  const blankToUndefined = Object.fromEntries(
    Object.keys(schema.shape).map((k) => [k, env[k]?.trim() ? env[k]!.trim() : undefined]),
  );
  const parsed = schema.safeParse(blankToUndefined);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))];
    throw new CampaignError(
      `Set these environment variables: ${names.map((n) => `${n} (${HINTS[n] ?? 'see the README'})`).join('; ')}.`,
    );
  }
  return Object.freeze(parsed.data);
}
