// Your own network for nanscope: a module file whose default export returns an nn.Module.
//   nanscope train --model examples/my-cnn.ts --epochs 2
// Probes, the NaN locator, replay, resume and the dashboard then work on it as on d2l's nets;
// the run records this file's path, and replay/resume import it again from there.
import { nn, type torch } from 'nanscope';

/** A small CNN for 28x28 Fashion-MNIST: two conv blocks, then a linear classifier. */
export class MyCnn extends nn.Module {
  readonly features = this.addModule('features', new nn.Sequential(
    new nn.Conv2d(1, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2, 2),
    new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2, 2),
  ));
  readonly head = this.addModule('head', new nn.Linear(32 * 7 * 7, 10));

  forward(x: torch.Tensor): torch.Tensor {
    return this.head.call(this.features.call(x).flatten(1));
  }
}

export default function model(): nn.Module {
  return new MyCnn();
}
