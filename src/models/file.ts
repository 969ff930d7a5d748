// A user's own network from a module file: `nanscope train --model ./my-net.ts`. The file
// exports a function returning a Module (default export, or one named `model`); replay and
// resume import it again from the path the run recorded.
import { existsSync, statSync } from 'node:fs';
import { resolve, extname } from 'node:path';
import { register } from 'node:module';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { Module } from '../nn/index.js';

/** A bad model file or a network that does not fit the data: exit code 2, like bad flags. */
export class ModelError extends Error {
  override name = 'ModelError';
}

export type ModelFactory = () => Module;

export const MODEL_FILE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;

/** Whether a --model value names a file rather than a zoo model. */
export const isModelPath = (m: string): boolean =>
  m.includes('/') || m.includes('\\') || (MODEL_FILE_EXTENSIONS as readonly string[]).includes(extname(m));

// This copy's entry module, in the form this file runs as (src/*.ts under tsx, dist/*.js built).
const SELF = import.meta.url;
const ENTRY = new URL(`../index${extname(fileURLToPath(SELF))}`, SELF).href;
let hooked = false;

/**
 * Module resolution for model files, two rules:
 *  - `import ... from 'nanscope'` resolves to the copy that is running. A second copy (a
 *    global CLI and a project's own node_modules, or dist beside src) would bring its own
 *    Module class and its own tensors: nothing it built would be a Module here.
 *  - a .ts file outside node_modules loads as an ES module even where no package.json says
 *    "type": "module" (a model file in any folder): it imports nanscope with \`import\`, and
 *    as CommonJS it would get a second, require()d copy of the whole library.
 */
function useThisCopy(): void {
  if (hooked) return;
  hooked = true;
  const hooks = `let entry;
export function initialize(d) { entry = d.entry; }
export async function resolve(spec, ctx, next) {
  const r = await next(spec === 'nanscope' ? entry : spec, ctx);
  if (r.format === 'commonjs' && r.url.startsWith('file:') && /\\.ts$/.test(r.url) && !r.url.includes('/node_modules/')) {
    return { ...r, format: 'module' };
  }
  return r;
}`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { entry: ENTRY } });
}

let tsLoader: Promise<void> | null = null;
/** TypeScript model files need a loader; the sources already run under tsx, a build does not. */
function ensureTypeScript(): Promise<void> {
  if (SELF.endsWith('.ts')) return Promise.resolve();
  tsLoader ??= import('tsx/esm/api').then((m) => { m.register(); });
  return tsLoader;
}

/** Imports the file and returns its model function; ModelError when there is none. */
export async function loadModelFile(path: string): Promise<ModelFactory> {
  const abs = resolve(path);
  if (!existsSync(abs) || !statSync(abs).isFile()) throw new ModelError(`model file ${abs} does not exist`);
  const ext = extname(abs);
  if (!(MODEL_FILE_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new ModelError(`model file ${abs}: expected ${MODEL_FILE_EXTENSIONS.join(', ')}, got '${ext || 'no extension'}'`);
  }
  // tsx first, then our rules: hooks registered later run first, and ours must see what
  // tsx resolved to override its CommonJS guess.
  if (ext === '.ts' || ext === '.mts') await ensureTypeScript();
  useThisCopy();
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(abs).href) as Record<string, unknown>;
  } catch (e) {
    throw new ModelError(`model file ${abs} failed to load: ${e instanceof Error ? e.message : String(e)}`);
  }
  const fn = typeof mod.default === 'function' ? mod.default : typeof mod.model === 'function' ? mod.model : null;
  if (!fn) {
    const names = Object.keys(mod);
    throw new ModelError(`model file ${abs} exports no model function (found: ${names.length ? names.join(', ') : 'no exports'}); ` +
      `write \`export default function model() { return new nn.Sequential(...) }\``);
  }
  return () => {
    const net: unknown = (fn as () => unknown)();
    if (!(net instanceof Module)) {
      const what = net === null ? 'null' : typeof net === 'object' ? `an object (${(net as object).constructor?.name ?? 'Object'})` : typeof net;
      throw new ModelError(`the model function of ${abs} returned ${what}, not an nn.Module (import { nn } from 'nanscope' and return e.g. new nn.Sequential(...))`);
    }
    return net;
  };
}
