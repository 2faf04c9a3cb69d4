/**
 * onnxruntime-node is an optional dependency: its install script downloads CUDA files from outside
 * the npm registry, and where that fails npm installs this package without it. Everything that
 * uses it asks here first, so that its absence gives one clear message instead of a failed import.
 */
import { createRequire } from 'node:module';

/** How to get it, for error messages. */
export const ONNXRUNTIME_NODE_HINT =
  'onnxruntime-node is not installed: `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node` adds it ' +
  '(the variable skips its optional CUDA download, which needs network access beyond the npm registry)';

let installed: boolean | undefined;

/** Whether `import('onnxruntime-node')` can succeed from this package. */
export function onnxruntimeNodeInstalled(): boolean {
  if (installed === undefined) {
    try {
      createRequire(import.meta.url).resolve('onnxruntime-node');
      installed = true;
    } catch {
      installed = false;
    }
  }
  return installed;
}
