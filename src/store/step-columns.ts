// The per-step record: one list that the store's SQL and row mapping (rows.ts), the server's
// column arrays (server/data.ts) and the dashboard's buffers (web) are all derived from, so a new
// step value is added in one place. Pure data, no Node imports: the web bundle imports it too.
//
// Append only. A REAL value's position in STEP_VALUES is its bit in the row's nan_mask (nan.ts),
// so existing databases keep their meaning; a value added later needs a migration adding its
// column (older rows read it as null).

/** Integer coordinates of a step. */
export const STEP_COORDS = ['step', 'epoch', 'batch'] as const;

/** REAL values, NaN-capable (in nan_mask order). `required`: always written as a number. */
export const STEP_VALUES = [
  { key: 'loss', col: 'loss', required: true },
  { key: 'lr', col: 'lr', required: true },
  /** Global gradient norm before the update. */
  { key: 'gradNorm', col: 'grad_norm' },
  { key: 'timeMs', col: 'time_ms' },
  { key: 'imgPerS', col: 'img_per_s' },
  /** The input batch's range and moments (probed steps only): raw 0-255 pixels show here. */
  { key: 'inputMin', col: 'input_min' },
  { key: 'inputMax', col: 'input_max' },
  { key: 'inputMean', col: 'input_mean' },
  { key: 'inputStd', col: 'input_std' },
  /** The fraction of this batch classified right by the forward pass of this step (migration 7). */
  { key: 'trainAcc', col: 'train_acc' },
] as const;

type Value = (typeof STEP_VALUES)[number];
type RequiredKey = Extract<Value, { required: true }>['key'];
type OptionalKey = Exclude<Value['key'], RequiredKey>;

/** A stored step. nonfinite: the loss or the gradient norm was NaN/Inf. */
export type StepRow = { [K in (typeof STEP_COORDS)[number]]: number } & { [K in RequiredKey]: number } & { [K in OptionalKey]: number | null } & { nonfinite: boolean };

/** A step to store; optional values may be left out. nonfinite defaults to: loss or gradNorm is NaN/±Infinity. */
export type StepInput = { [K in (typeof STEP_COORDS)[number]]: number } & { [K in RequiredKey]: number } & { [K in OptionalKey]?: number | null } & { nonfinite?: boolean };

/** Every field of a StepRow, in column order. */
export const STEP_KEYS: readonly (keyof StepRow)[] = [...STEP_COORDS, ...STEP_VALUES.map((v) => v.key), 'nonfinite'];

/** The steps table's columns after run_id, in the order rows.ts binds and reads them. */
export const STEP_SQL_COLUMNS: readonly string[] = [...STEP_COORDS, ...STEP_VALUES.map((v) => v.col), 'nonfinite', 'nan_mask'];
