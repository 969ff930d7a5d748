// The flags that describe a training run, shared by train, resume, experiment and sweep.
import { resolve } from 'node:path';
import { defaultConfig, validate, type TrainConfig } from '../train/config.js';
import { CONFIG_FLAGS, flagName, flagOf, type ConfigFlag } from '../train/config-flags.js';
import { ZOO, MODELS, isModelPath, recipeOf, type ModelSpec, type ModelSource } from '../models/index.js';
import { cuda } from '../torch/index.js';
import { str, UsageError, type Flags, type FlagSpec, type Parsed } from './args.js';

/**
 * A setting's default as --help shows it, read from defaultConfig(): "the model's d2l recipe" for
 * the keys defaultConfig takes from the model's recipe (every zoo net trains 10 epochs today, but
 * a model file's recipe need not); otherwise nanscope's own default, which parsing fills in as
 * the help says; none where it is unset (null: the help says what that means) or for a switch.
 */
function flagSpec(e: ConfigFlag): FlagSpec {
  const spec: FlagSpec = { type: e.type, help: e.help };
  if (e.type === 'bool') return spec;
  if (Object.hasOwn(recipeOf(defaultConfig().model), e.key)) return { ...spec, help: `${e.help} (default: the model's d2l recipe)` };
  const v = defaultConfig()[e.key];
  return v === null ? spec : { ...spec, default: v };
}

/** The train flags, derived from CONFIG_FLAGS: for parsing, and for train, sweep and resume --help. */
export const TRAIN_FLAGS: Flags = Object.fromEntries(CONFIG_FLAGS.map((e) => [flagName(e), flagSpec(e)]));

/** The zoo as `nanscope train --help` lists it: each net's d2l recipe and the knobs it takes. */
export function modelsHelp(): string {
  const rows = MODELS.map((m) => {
    const s: ModelSpec = ZOO[m];
    const r = s.recipe;
    const knobs = s.takes.map(flagOf).join(' ');
    return `  ${m.padEnd(10)} ${s.title.padEnd(40)} lr ${r.lr}, batch ${r.batchSize}, ${r.resize}x${r.resize}, ${r.epochs} epochs${r.ratio !== 1 ? `, ratio ${r.ratio}` : ''}; ${knobs ? `${knobs} --init` : '--init'}`;
  });
  return `\nmodels (--model), with d2l's Fashion-MNIST recipe as their defaults:\n${rows.join('\n')}\n` +
    `  ./FILE.ts  your own network: a module file whose default export (or \`model\`) returns an nn.Module; --init applies\n`;
}

/** --model's value: a zoo name, or a path to a module file (recorded absolute for replay). */
function modelOf(v: string): { model: ModelSource; modelFile: string | null } {
  return isModelPath(v) ? { model: 'file', modelFile: resolve(v) } : { model: v as ModelSource, modelFile: null };
}

export function configFromFlags(p: Parsed, base?: TrainConfig): TrainConfig {
  // The model comes first: its recipe is where the other settings' defaults come from.
  const { model, modelFile } = base ? { model: base.model, modelFile: base.modelFile } : modelOf(str(p, 'model') ?? defaultConfig().model);
  const c: TrainConfig = { ...(base ?? defaultConfig(model)), model, modelFile };
  // parseArgs checked each value's type against the same table, so it is the key's (string
  // unions such as bn are checked by validate() below).
  const set = c as unknown as Record<keyof TrainConfig, unknown>;
  for (const e of CONFIG_FLAGS) {
    if (e.key === 'model') continue;
    const v = p.flags[flagName(e)];
    if (e.type === 'bool') { if (v === true) set[e.key] = e.sets; } else if (v !== undefined) set[e.key] = v;
  }
  validate(c);
  if (c.device.startsWith('cuda') && !cuda.isAvailable()) {
    throw new UsageError(`${flagOf('device')} ${c.device}: CUDA is not available in this libtorch build (Debian's libtorch-dev is CPU-only; rebuild against a CUDA libtorch: LIBTORCH=/path or LIBTORCH_USE_PYTORCH=1 npm run build:native -- --force)`);
  }
  return c;
}
