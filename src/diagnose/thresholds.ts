// The verdict's thresholds; verdict.ts says why each has its value.
export const WINDOW = 10;
export const EXPLODE_GROWTH = 100;
export const LOSS_BLOWUP = 10;
export const VANISH_DEPTH_RATIO = 1e-2;
export const DEAD_FRACTION = 0.99;
export const SATURATED_FRACTION = 0.5;
export const UPDATE_RATIO_HIGH = 1;
export const CHANCE_SIGMAS = 3;
export const UNSCALED_INPUT_MAX = 1.5;
/** A loss spike: above twice its recent median and above the loss of guessing. */
export const SPIKE_FACTOR = 2;

