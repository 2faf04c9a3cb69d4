/** Datasets: GLUE and IMDB readers, CSV/JSONL text classification files, the embedded synthetic task. */
export * from './glue.js';
export * from './imdb.js';
export * from './synthetic.js';
export * from './mlm.js';
export * from './listops.js';
