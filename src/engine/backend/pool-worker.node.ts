/** Node entry of a kernel thread: its data arrives as workerData. */
import { workerData } from 'node:worker_threads';
import type { WorkerData } from './pool-protocol.js';
import { serve } from './pool-worker.js';

serve(workerData as WorkerData);
