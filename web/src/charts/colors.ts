// Colours: viridis for the log heatmap (perceptually uniform, colour-blind
// safe) and distinct, non-viridis colours for the special values.

const VIRIDIS: [number, number, number][] = [
  [68, 1, 84],
  [72, 40, 120],
  [62, 73, 137],
  [49, 104, 142],
  [38, 130, 142],
  [31, 158, 137],
  [53, 183, 121],
  [109, 205, 89],
  [180, 222, 44],
  [253, 231, 37],
];

export function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

export const SPECIAL = {
  nan: [255, 0, 200] as [number, number, number],
  posInf: [230, 20, 20] as [number, number, number],
  negInf: [0, 200, 255] as [number, number, number],
  zero: [25, 25, 25] as [number, number, number],
  na: [222, 222, 222] as [number, number, number],
};

export const rgb = (c: readonly number[]): string => `rgb(${c[0] | 0},${c[1] | 0},${c[2] | 0})`;

const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#393b79',
  '#637939',
  '#8c6d31',
  '#843c39',
  '#7b4173',
  '#3182bd',
  '#e6550d',
  '#31a354',
  '#756bb1',
  '#636363',
];

export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length];
}

export const TROUBLE = '#e0145a';
