/** Datasets: GLUE and IMDB readers, CSV/JSONL text classification files, the embedded synthetic task, and Long Range Arena's tasks. */
export * from './glue.js';
export * from './imdb.js';
export * from './synthetic.js';
export * from './mlm.js';
export * from './listops.js';
export * from './lra-bytes.js';
export * from './images.js';
export * from './pathfinder.js';
export * from './hub-data.js';
export * from './lra-settings.js';
export * from './lra-tasks.js';
