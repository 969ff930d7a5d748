// Grad-mode scopes, as torch.no_grad() / torch.enable_grad().
import { native } from './native.js';

function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = native.setGradEnabled(on);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}
/** Runs fn with autograd recording off (evaluation, optimizer updates, init). */
export function noGrad<T>(fn: () => T): T { return withGradMode(false, fn); }
export function enableGrad<T>(fn: () => T): T { return withGradMode(true, fn); }
export function isGradEnabled(): boolean { return native.isGradEnabled(); }
