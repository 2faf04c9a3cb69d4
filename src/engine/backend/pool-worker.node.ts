/** Node entry of a kernel thread: its data arrives as workerData. */
import { workerData } from 'node:worker_threads';
import { SyncChannel } from '../sync-channel.js';
import type { WorkerData } from './pool-protocol.js';
import { serve } from './pool-worker.js';

const data = workerData as WorkerData;
// A thread that dies fails its caller's wait instead of leaving it waiting for ever.
process.on('exit', () => new SyncChannel(data.control).exited(`kernel thread ${data.tid}`));
serve(data);
