// Diagnostics: per-layer probes, the non-finite locator, explanations and verdicts.
export { PROBE_FIELDS, FIELD, NF, layerAliases, type ProbeField } from './fields.js';
export { Probes, gradientSummary, type LayerInfo, type StepProbe, type StepHistograms } from './probes.js';
export { locate, locateUpdate, FORWARD_OP, type Origin } from './locator.js';
export { sameOrigin, type NonFiniteReport, type Pass, type Counts } from './report.js';
export { explain, type Lang } from './explain.js';
export { History, median } from './history.js';
export { verdict, WINDOW, EXPLODE_GROWTH, VANISH_DEPTH_RATIO, DEAD_FRACTION, type Verdict, type Health, type LayerVerdict, type Fix, type VerdictContext } from './verdict.js';
export { fmt } from './format.js';
