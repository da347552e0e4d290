/**
 * Builds the add-on into appsscript/build (clasp's rootDir): one server bundle with a real top-level function per
 * Apps Script entry, the self-contained sidebar.html and picker.html (JS and CSS inlined; the Picker dialog also loads
 * Google's Picker loader), and the manifest with the service URL in urlFetchWhitelist. Run: `npm run build:addon`
 * (POSTATO_SHEETS_SERVICE_URL sets the service URL).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { ENTRY_POINTS } from '../appsscript/server/index';

const ROOT = path.resolve(__dirname, '..');
/** The service URL used when the build is not given one (the local demo). */
export const DEFAULT_BUILD_SERVICE_URL = 'http://127.0.0.1:8080';
/** Name of the namespace the server bundle assigns to. */
export const BUNDLE_NAMESPACE = 'PostatoAddon';

/** Options of one build. */
export interface BuildAddonOptions {
  serviceUrl?: string;
  outDir?: string;
}

/** What a build wrote. */
export interface BuildAddonResult {
  outDir: string;
  serviceUrl: string;
  entryPoints: string[];
  warnings: string[];
}

/** Checks the service URL and returns it without a trailing slash. */
export function normaliseServiceUrl(raw: string): { url: string; warnings: string[] } {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new Error(`POSTATO_SHEETS_SERVICE_URL "${raw}" is not a URL. Use e.g. https://postato-sheets.example.com`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Error(`POSTATO_SHEETS_SERVICE_URL must start with https:// (got ${parsed.protocol}).`);
  }
  const warnings =
    parsed.protocol === 'http:'
      ? [
          `The service URL ${parsed.origin} uses http: fine for local tests, but Apps Script only fetches https URLs. Use https in production.`,
        ]
      : [];
  return { url: (parsed.origin + parsed.pathname).replace(/\/+$/, ''), warnings };
}

/** Top-level function declarations that forward to the bundle's namespace: Apps Script only sees those. */
export function entryStubs(names: readonly string[]): string {
  return names
    .map((name) => `function ${name}() { return ${BUNDLE_NAMESPACE}.ENTRY_POINTS.${name}.apply(null, arguments); }`)
    .join('\n');
}

function escapeInlineScript(js: string): string {
  // A literal "</script" inside inlined JS would end the script element early.
  return js.replace(/<\/script/gi, '<\\/script').replace(/<!--/g, '<\\!--');
}

/** The HTML pages of the add-on: appsscript/client/<name>.html with <name>.ts and sidebar.css inlined. */
export const PAGES = ['sidebar', 'picker'] as const;

/** One self-contained page: its script bundled and inlined, the add-on's stylesheet inlined. */
async function buildPage(name: (typeof PAGES)[number]): Promise<string> {
  const client = await build({
    entryPoints: [path.join(ROOT, 'appsscript', 'client', `${name}.ts`)],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2019',
    minify: true,
    legalComments: 'none',
  });
  const css = readFileSync(path.join(ROOT, 'appsscript', 'client', 'sidebar.css'), 'utf8');
  const template = readFileSync(path.join(ROOT, 'appsscript', 'client', `${name}.html`), 'utf8');
  return template
    .replace('/* INLINE_CSS */', () => css)
    .replace('/* INLINE_JS */', () => escapeInlineScript(client.outputFiles[0]!.text));
}

/** Builds the server bundle, the pages and the manifest. */
export async function buildAddon(options: BuildAddonOptions = {}): Promise<BuildAddonResult> {
  const { url, warnings } = normaliseServiceUrl(options.serviceUrl ?? DEFAULT_BUILD_SERVICE_URL);
  const outDir = options.outDir ?? path.join(ROOT, 'appsscript', 'build');
  mkdirSync(outDir, { recursive: true });
  const names = Object.keys(ENTRY_POINTS);

  const server = await build({
    entryPoints: [path.join(ROOT, 'appsscript', 'server', 'index.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: BUNDLE_NAMESPACE,
    platform: 'neutral',
    target: 'es2019',
    define: { __POSTATO_SERVICE_URL__: JSON.stringify(url) },
    legalComments: 'none',
  });
  const serverJs = server.outputFiles[0]!.text;
  writeFileSync(
    path.join(outDir, 'Code.js'),
    `// Built by scripts/build-addon.ts: do not edit. Service: ${url}\n${serverJs}\n${entryStubs(names)}\n`,
  );

  for (const page of PAGES) writeFileSync(path.join(outDir, `${page}.html`), await buildPage(page));

  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'appsscript', 'appsscript.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  manifest.urlFetchWhitelist = [`${url}/`];
  writeFileSync(path.join(outDir, 'appsscript.json'), JSON.stringify(manifest, null, 2) + '\n');
  return { outDir, serviceUrl: url, entryPoints: names, warnings };
}

if (require.main === module) {
  buildAddon({ serviceUrl: process.env.POSTATO_SHEETS_SERVICE_URL || undefined })
    .then((result) => {
      for (const w of result.warnings) console.warn(`warning: ${w}`);
      console.log(
        `Built the add-on into ${path.relative(ROOT, result.outDir)} (${result.entryPoints.length} entry functions, service ${result.serviceUrl}).`,
      );
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
