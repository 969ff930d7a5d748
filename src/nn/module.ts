// Module: the base of every layer, as torch.nn.Module. Parameters, buffers and sub-modules
// are registered by name, so namedParameters() yields PyTorch's dotted keys ("3.weight") and a
// state dict can be diffed against PyTorch's. Forward pre-hooks and hooks are the taps the
// probes use. A module knows its own identity: the alias prefix of its class and whether it
// has its own `weight`.
import { Tensor, keep, noGrad } from '../torch/index.js';

export type ForwardHook = (module: Module, input: Tensor, output: Tensor) => void;
/** Runs before forward(); may return a replacement input, as register_forward_pre_hook. */
export type ForwardPreHook = (module: Module, input: Tensor) => Tensor | void;
export interface HookHandle { remove(): void }
/** The nonlinearities nanscope reasons about (saturation, dead units). */
export type ActivationKind = 'relu' | 'sigmoid' | 'tanh';

export abstract class Module {
  /** Prefix of the friendly names d2l readers use (conv1, fc2, bn3): one per class. */
  static alias = '';
  /** The nonlinearity this class applies, if it is one. */
  static activation: ActivationKind | null = null;
  /** Whether this class normalizes its input by batch statistics (BatchNorm1d/2d, d2l's BatchNorm). */
  static normalizes = false;
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children_ = new Map<string, Module>();
  private readonly preHooks = new Set<ForwardPreHook>();
  private readonly hooks = new Set<ForwardHook>();

  abstract forward(x: Tensor): Tensor;

  /**
   * Runs the pre-hooks, forward() and then the forward hooks, as Module.__call__. An input a
   * pre-hook substituted (the probes' gradient tap) is released once forward has used it.
   */
  call(x: Tensor): Tensor {
    let input = x;
    for (const h of this.preHooks) {
      const r = h(this, input);
      if (r) {
        if (input !== x) input.dispose();
        input = r;
      }
    }
    const y = this.forward(input);
    for (const h of this.hooks) h(this, input, y);
    if (input !== x && input !== y && !input.kept) input.dispose();
    return y;
  }

  registerForwardPreHook(h: ForwardPreHook): HookHandle {
    this.preHooks.add(h);
    return { remove: () => this.preHooks.delete(h) };
  }
  /**
   * Chains of children that this module's forward runs one into the next, each child's output
   * going to the next child and nowhere else ([[a, b, c]]: b's input is a's output, consumed by
   * b alone; likewise c). The probes tap such an input's gradient on the tensor itself, without
   * an alias node: its whole gradient is what flows back through the consumer. None by default;
   * a class declares its own only for the forward it defines (a subclass with another forward
   * must not inherit the claim).
   */
  soleConsumerChains(): readonly (readonly Module[])[] { return []; }
  /** How many forward hooks are registered (the probes read a layer's output without consuming it; another hook might). */
  get forwardHookCount(): number { return this.hooks.size; }
  registerForwardHook(h: ForwardHook): HookHandle {
    this.hooks.add(h);
    return { remove: () => this.hooks.delete(h) };
  }

  /** This class's alias prefix (its static `alias`, else the class name in lower case). */
  get aliasPrefix(): string { return (this.constructor as typeof Module).alias || this.kind.toLowerCase(); }
  /** Its own trainable `weight` (Conv2d, Linear, BatchNorm2d ...; not a child's), or null. */
  ownWeight(): Tensor | null { return this.params.get('weight') ?? null; }
  get activationKind(): ActivationKind | null { return (this.constructor as typeof Module).activation; }
  get normalizes(): boolean { return (this.constructor as typeof Module).normalizes; }

  /** Registers (or with null, declares absent) a trainable tensor; the module owns it. */
  protected registerParameter(name: string, t: Tensor | null): Tensor | null {
    this.checkName(name);
    if (t) keep(t).requiresGrad_(true);
    this.params.set(name, t);
    return t;
  }
  /** Registers persistent state that is not trained (running stats); the module owns it. */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    this.checkName(name);
    this.buffers.set(name, keep(t));
    return t;
  }
  addModule<M extends Module>(name: string, m: M): M {
    this.checkName(name);
    this.children_.set(name, m);
    return m;
  }
  private checkName(name: string): void {
    if (!name || name.includes('.')) throw new Error(`bad name '${name}': must be non-empty without '.'`);
    if (this.params.has(name) || this.buffers.has(name) || this.children_.has(name)) throw new Error(`name '${name}' already registered`);
  }
  /** Replaces a registered buffer (d2l's from-scratch BN reassigns its moving stats). */
  protected setBuffer(name: string, t: Tensor): void {
    const old = this.buffers.get(name);
    if (!old) throw new Error(`no buffer '${name}'`);
    this.buffers.set(name, keep(t));
    if (old !== t) old.dispose();
  }
  protected buffer(name: string): Tensor {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`no buffer '${name}'`);
    return b;
  }
  protected param(name: string): Tensor | null { return this.params.get(name) ?? null; }

  children(): [string, Module][] { return [...this.children_]; }
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, m] of this.children_) yield* m.namedModules(prefix ? `${prefix}.${n}` : n);
  }
  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, p] of this.params) if (p) yield [prefix ? `${prefix}.${n}` : n, p];
    for (const [n, m] of this.children_) yield* m.namedParameters(prefix ? `${prefix}.${n}` : n);
  }
  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, b] of this.buffers) yield [prefix ? `${prefix}.${n}` : n, b];
    for (const [n, m] of this.children_) yield* m.namedBuffers(prefix ? `${prefix}.${n}` : n);
  }
  parameters(): Tensor[] { return [...this.namedParameters()].map(([, p]) => p); }
  /** Own (non-recursive) parameters by local name: weight, bias, gamma, ... */
  ownParameters(): [string, Tensor][] { return [...this.params].filter((e): e is [string, Tensor] => e[1] !== null); }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this { return this.train(false); }

  /** Calls fn on every sub-module then on this one (post-order, as Module.apply). */
  apply(fn: (m: Module) => void): this {
    for (const [, c] of this.children_) c.apply(fn);
    fn(this);
    return this;
  }

  /** Gradients set to None, as zero_grad(set_to_none=True): same maths, no memset. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Parameters and buffers by dotted name; the tensors themselves, not copies. */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedState());
  }
  /** PyTorch's state_dict order: each module's own parameters, then its buffers, then its children. */
  private *namedState(prefix = ''): Generator<[string, Tensor]> {
    const key = (n: string) => (prefix ? `${prefix}.${n}` : n);
    for (const [n, p] of this.params) if (p) yield [key(n), p];
    for (const [n, b] of this.buffers) yield [key(n), b];
    for (const [n, m] of this.children_) yield* m.namedState(key(n));
  }

  /** Copies values in (shapes must match); strict: the key sets must be equal. */
  loadStateDict(sd: ReadonlyMap<string, Tensor>, strict = true): void {
    const own = this.stateDict();
    if (strict) {
      const missing = [...own.keys()].filter((k) => !sd.has(k));
      const unexpected = [...sd.keys()].filter((k) => !own.has(k));
      if (missing.length || unexpected.length) {
        throw new Error(`loadStateDict: missing keys [${missing.join(', ')}], unexpected keys [${unexpected.join(', ')}]`);
      }
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const src = sd.get(k);
        if (!src) continue;
        if (src.shape.join() !== t.shape.join()) {
          throw new Error(`loadStateDict: '${k}' has shape [${src.shape}] but the model expects [${t.shape}]`);
        }
        t.copy_(src);
      }
    });
  }

  /** Frees every parameter and buffer (the model is unusable afterwards). */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const p of m.params.values()) p?.dispose();
      for (const b of m.buffers.values()) b.dispose();
    }
  }

  /** One-line description, as PyTorch's extra_repr. */
  extraRepr(): string { return ''; }
  get kind(): string { return this.constructor.name; }
  toString(indent = ''): string {
    const kids = this.children();
    if (!kids.length) return `${this.kind}(${this.extraRepr()})`;
    const inner = kids.map(([n, m]) => `${indent}  (${n}): ${m.toString(indent + '  ')}`).join('\n');
    return `${this.kind}(\n${inner}\n${indent})`;
  }
}
