/** Browser entry of a kernel thread (a module Web Worker): its data arrives as the first message. */
import type { WorkerData } from './pool-protocol.js';
import { serve } from './pool-worker.js';

// serve() never returns to the event loop, so later messages are never read; none are sent.
globalThis.addEventListener('message', (e: MessageEvent<WorkerData>) => serve(e.data), { once: true });
