// The per-layer probe record: one Float32 per field per layer per probed step. NaN in a field
// means "not applicable" (a ReLU has no weight) unless the layer's *_nonfinite count says the
// value itself went bad. The store keeps this list with the run, so it can grow safely.
// act_sat_frac: the fraction of a sigmoid/tanh layer's outputs in its saturation band
// (layers.ts: the unit passes back <= 1% of its peak slope); NaN for layers that cannot saturate.
// bn_mean_dev, bn_var_dev: on a BatchNorm layer in training, how far the mini-batch mean and
// variance it normalised by sat from its running estimate (bn-stats.ts); NaN for other layers.
// bn_mean_noise, bn_var_noise: the same statistics' sampling noise alone, at this step's weights,
// from the two halves of the batch (bn-stats.ts); NaN for other layers.
export const PROBE_FIELDS = [
  'act_mean', 'act_std', 'act_max', 'act_zero_frac', 'act_sat_frac', 'act_nonfinite',
  'w_norm', 'grad_w_norm', 'grad_b_norm', 'update_ratio', 'param_nonfinite',
  'grad_out_norm', 'grad_in_norm', 'grad_nonfinite',
  'bn_mean_dev', 'bn_var_dev', 'bn_mean_noise', 'bn_var_noise',
] as const;
export type ProbeField = (typeof PROBE_FIELDS)[number];
export const NF = PROBE_FIELDS.length;
export const FIELD: Record<ProbeField, number> = Object.fromEntries(PROBE_FIELDS.map((f, i) => [f, i])) as Record<ProbeField, number>;
