// The locator's report: where the first non-finite value appeared, in which pass, and the
// trail that shows how it got there. Plain data, stored as JSON with the run.
export type Pass = 'input' | 'forward' | 'loss' | 'backward' | 'update';

export interface Counts { nan: number; posInf: number; negInf: number }

export interface NonFiniteReport {
  step: number;
  epoch: number;
  batch: number;
  pass: Pass;
  /** Layer name in the model ("3"), or null for the input batch and the loss. */
  layer: string | null;
  layerIndex: number;
  layerKind: string;
  /** Friendly name: conv2, fc1, relu3 ... or "input" / "loss". */
  alias: string;
  /** The op that produced the first non-finite value: "conv2d", "ConvolutionBackward0", "sgd update" ... */
  op: string;
  /** Which tensor went bad: output, grad_input, grad_weight, grad_bias, weight, bias, loss, input. */
  tensor: string;
  counts: Counts;
  /** Numbers behind the explanation (max |input|, max |weight|, loss value ...). */
  detail: Record<string, number | string>;
  /** The origin layer's history over the previous steps. */
  trail: { steps: number[]; actMax: number[]; gradNorm: number[]; loss: number[]; globalGradNorm: number[] };
  explanation: { en: string; zh: string };
}

/** Same place: what replay must reproduce. */
export function sameOrigin(a: NonFiniteReport, b: NonFiniteReport): boolean {
  return a.pass === b.pass && a.layer === b.layer && a.op === b.op && a.tensor === b.tensor;
}
