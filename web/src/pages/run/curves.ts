// Training curves: loss and global gradient norm per step (with the NaN and early-warning
// markers), accuracy per epoch. Step redraws are coalesced to one per animation frame since
// live steps arrive in bursts.

import { LineChart, type ChartMarker } from '../../charts/line.js';
import { h, panel } from '../../dom.js';
import type { EpochRow } from '../../source.js';
import type { Locator } from '../../verdict.js';
import type { NanMark, WarnMark } from './marks.js';
import { emptyCols, type StepCols } from './step-cols.js';

export class CurvesPanel {
  private readonly lossLog = h('input', { type: 'checkbox', id: 'loss-log' });
  /** Once the user ticks or unticks log scale, stop choosing it for them. */
  private lossLogPicked = false;
  private readonly lossChart: LineChart;
  private readonly gradChart: LineChart;
  private readonly accChart: LineChart;
  private steps: StepCols = emptyCols();
  private markers: ChartMarker[] = [];
  private drawQueued = false;
  private destroyed = false;

  constructor(
    parent: HTMLElement,
    private readonly openLocator: (l: Locator | null) => void,
  ) {
    const [sec, body] = panel('Training curves', 'curves');
    parent.append(sec);
    body.append(h('div', { class: 'controls' }, h('label', {}, this.lossLog, ' log-scale loss')));
    this.lossChart = new LineChart(body, { id: 'chart-loss', xLabel: 'step', yLabel: 'loss', sync: 'steps', height: 260 });
    this.lossLog.addEventListener('change', () => {
      this.lossLogPicked = true;
      this.lossChart.setLog(this.lossLog.checked);
      this.queueDraw();
    });
    this.gradChart = new LineChart(body, {
      id: 'chart-gradnorm',
      xLabel: 'step',
      yLabel: 'global grad norm',
      log: true,
      sync: 'steps',
      height: 180,
      empty: 'no gradient norms recorded',
    });
    this.accChart = new LineChart(body, {
      id: 'chart-acc',
      xLabel: 'epoch',
      yLabel: 'accuracy',
      yRange: [0, 1],
      height: 220,
      empty: 'no finished epoch yet',
    });
  }

  setSteps(steps: StepCols): void {
    this.steps = steps;
    this.queueDraw();
  }

  setMarks(nan: readonly NanMark[], warn: readonly WarnMark[]): void {
    this.markers = [
      ...warn.map((w) => ({ x: w.step, label: '!', cls: 'warn-marker', title: w.title })),
      ...nan.map((m) => ({ x: m.step, label: 'NaN', cls: 'nan-marker', title: m.title, onClick: () => this.openLocator(m.locator) })),
    ];
    this.queueDraw();
  }

  setEpochs(epochs: readonly EpochRow[]): void {
    this.accChart.setData(
      epochs.map((e) => e.epoch),
      [
        { label: 'train acc', values: epochs.map((e) => e.trainAcc), color: '#2ca02c', points: true },
        { label: 'test acc', values: epochs.map((e) => e.testAcc), color: '#d62728', points: true },
      ],
    );
  }

  private queueDraw(): void {
    if (this.drawQueued) return;
    this.drawQueued = true;
    requestAnimationFrame(() => {
      this.drawQueued = false;
      if (!this.destroyed) this.drawSteps();
    });
  }

  private drawSteps(): void {
    const steps = this.steps;
    if (!this.lossLogPicked) {
      // Exploding runs span many decades: switch to log until the user picks.
      const finite = steps.loss.filter((v) => Number.isFinite(v) && v > 0);
      const wantLog = finite.length > 1 && Math.max(...finite) > 1e3 * Math.max(1e-12, Math.min(...finite));
      this.lossLog.checked = wantLog;
      this.lossChart.setLog(wantLog);
    }
    this.lossChart.setData(steps.step, [{ label: 'loss', values: steps.loss, color: '#1f77b4' }]);
    this.lossChart.setMarkers(this.markers);
    const gn = steps.gradNorm;
    if (gn.some((v) => v !== null)) {
      this.gradChart.setData(steps.step, [{ label: 'grad norm', values: gn, color: '#ff7f0e' }]);
      this.gradChart.setMarkers(this.markers);
    } else this.gradChart.setData([], []);
  }

  destroy(): void {
    this.destroyed = true;
    this.lossChart.destroy();
    this.gradChart.destroy();
    this.accChart.destroy();
  }
}
