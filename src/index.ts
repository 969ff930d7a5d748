// nanscope as a library: `import { torch, nn, optim, watch, locate, Trainer, openStore } from 'nanscope'`.
// Loading it loads the native addon, which tunes the process (see README, "Process-wide
// effects"): NANSCOPE_MALLOC_TUNING=0 and NANSCOPE_CPU_ALLOCATOR=0 turn that off.
export * as torch from './torch/index.js';
export * as nn from './nn/index.js';
export * as optim from './nn/optim.js';
export { watch, Watch, locateStep as locate, type WatchedLayer, type LayerReading, type StepReading, type LocateOptions } from './diagnose/watch.js';
export { explain, verdict, PROBE_FIELDS, type NonFiniteReport, type Verdict, type ProbeField, type Lang } from './diagnose/index.js';
export { Trainer, type TrainerOptions, type TrainResult, type EpochResult } from './train/trainer.js';
export { defaultConfig, validate, ConfigError, type TrainConfig } from './train/config.js';
export { openStore, Store } from './store/index.js';
export { loadFashionMnist, DataLoader, type FashionMnist, type Batch, type BatchSource } from './data/index.js';
export { ZOO, MODELS, buildModel, loadModelFile, ModelError, type ModelName, type ModelFactory, type ModelSpec } from './models/index.js';
