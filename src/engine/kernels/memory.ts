/** First byte past this module's static data: the arena allocator starts above it. */
export function heapBase(): usize {
  return __heap_base;
}
