// Diagnostics: per-layer probes, the non-finite locator, explanations and verdicts.
export { PROBE_FIELDS, FIELD, NF, type ProbeField } from './fields.js';
export { traceLayers, layerMeta, netActivation, netNormalizes, saturationBand, SATURATION_BAND, SATURATION_SLOPE, type LayerMeta, type LayerInfo, type ActivationKind } from './layers.js';
export { Probes, gradientSummary, type StepProbe, type StepHistograms } from './probes.js';
export { locate, locateUpdate, type Origin } from './locator.js';
export { sameOrigin, type NonFiniteReport, type Pass, type Counts } from './report.js';
export { explain, type Lang, type NetInfo } from './explain.js';
export { History, median } from './history.js';
export { verdict, measure, classify, MODES, WINDOW, EXPLODE_GROWTH, LOSS_BLOWUP, VANISH_DEPTH_RATIO, DEAD_FRACTION, SATURATED_FRACTION, UPDATE_RATIO_HIGH, CHANCE_SIGMAS, UNSCALED_INPUT_MAX,
  type Verdict, type Health, type Cause, type ChainLink, type LayerVerdict, type Fix, type DoctorRow, type VerdictContext, type Measures } from './verdict.js';
export { fmt } from './format.js';
export { EarlyWarning, WARN_WINDOW, WARN_Z, WARN_RATIO, WARN_HORIZON, type Warning } from './warning.js';
export { withEvidence } from './fixes.js';
export { candidates, fixCost, toRow, recommend, recommendation, FAILED_MODES, type TrialOutcome } from './doctor.js';
