/** Layer train: optimizers, schedules, batching, checkpoints, the training loop. */
export { AdamW, SGD, Optimizer, noDecay } from './optimizers.js';
export type { OptimizerState, AdamWOptions, NamedParameters } from './optimizers.js';
export { learningRate, scheduledMomentum, SCHEDULES } from './schedules.js';
export type { Schedule, ScheduleKind } from './schedules.js';
export { epochBatches, collate, exampleLength } from './batches.js';
export type { Batch } from './batches.js';
export { saveCheckpoint, latestCheckpoint, loadTrainingState } from './checkpoint.js';
export type { TrainerState } from './checkpoint.js';
export { train, evaluateClassifier } from './trainer.js';
export type { TrainerOptions, StepRecord, EvalRecord, TrainResult, TrainableModel } from './trainer.js';
export { openRunFolder, RUN_FILES } from './run-folder.js';
export type { OpenRunOptions } from './run-folder.js';
