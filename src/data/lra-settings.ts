/**
 * The five Long Range Arena tasks' paper settings (docs/algorithm.md §3) and vocabularies. No file
 * access, so the browser build can show and use them; the Node loaders are in lra-tasks.ts.
 */
/** ListOps token ids: 0 padding, 1–15 the symbols (listops.ts), the rest unused — 32 as in LRA. */
export const LISTOPS_VOCAB_SIZE = 32;
/** Byte-level text: 0 padding, 1–256 the bytes. */
export const BYTE_VOCAB_SIZE = 257;
/** Gray levels 0–255 (images, Pathfinder). */
export const GRAY_VOCAB_SIZE = 256;
/** LRA's AAN files: `new_aan_pairs.{train,eval,test}.tsv`. */
export const AAN_FILES = { train: 'new_aan_pairs.train.tsv', val: 'new_aan_pairs.eval.tsv', test: 'new_aan_pairs.test.tsv' } as const;

export type LraTaskName = 'listops' | 'text' | 'retrieval' | 'image' | 'pathfinder';

export interface LraSettings {
  /** The paper's settings. */
  length: number;
  batchSize: number;
  warmup: number;
  steps: number;
  /** Steps between validations (the official code's eval_frequency); the best one's weights are tested. */
  evalEvery: number;
  vocabSize: number;
  classes: number;
  /** Two documents per example (Retrieval). */
  dual?: boolean;
  /** What --data names; absent when the task generates its data without it. */
  dataHelp: string;
  /** Default sizes of generated data; absent when the task reads its data from files. */
  generated?: { train: number; eval: number };
}

export const LRA_SETTINGS: Readonly<Record<LraTaskName, LraSettings>> = {
  listops: {
    length: 2000, batchSize: 32, warmup: 1000, steps: 5000, evalEvery: 50, vocabSize: LISTOPS_VOCAB_SIZE, classes: 10,
    dataHelp: 'folder of basic_train.tsv, basic_val.tsv, basic_test.tsv (default: generated)',
    generated: { train: 96000, eval: 2000 },
  },
  text: {
    length: 4000, batchSize: 32, warmup: 8000, steps: 20000, evalEvery: 500, vocabSize: BYTE_VOCAB_SIZE, classes: 2,
    dataHelp: 'the aclImdb folder (train/ and test/, pos/ and neg/); LRA validates on the test set',
  },
  retrieval: {
    length: 4000, batchSize: 32, warmup: 800, steps: 30000, evalEvery: 300, vocabSize: BYTE_VOCAB_SIZE, classes: 2, dual: true,
    dataHelp: `folder of ${Object.values(AAN_FILES).join(', ')}`,
  },
  image: {
    length: 1024, batchSize: 256, warmup: 175, steps: 35000, evalEvery: 175, vocabSize: GRAY_VOCAB_SIZE, classes: 10,
    dataHelp: 'CIFAR-10 binary batches (cifar-10-batches-bin) or an IDX image set such as Fashion-MNIST (apt install dataset-fashion-mnist: /usr/share/datasets/fashion-mnist)',
  },
  pathfinder: {
    length: 1024, batchSize: 256, warmup: 312, steps: 62400, evalEvery: 312, vocabSize: GRAY_VOCAB_SIZE, classes: 2,
    dataHelp: 'the pathfinder32 folder of LRA (curv_baseline/imgs, curv_baseline/metadata; default: generated)',
    generated: { train: 80000, eval: 10000 },
  },
};

/** How many examples to generate: the given sizes, else the task's defaults. */
export function generatedSizes(task: LraSettings, o: { trainSize?: number; evalSize?: number }): { train: number; eval: number } {
  if (!task.generated) throw new Error('generatedSizes: this task reads its data from files');
  return { train: o.trainSize ?? task.generated.train, eval: o.evalSize ?? task.generated.eval };
}
