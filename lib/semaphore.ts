/** At most `capacity` holders at once; the others wait in arrival order. */
export interface Semaphore {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function createSemaphore(capacity: number): Semaphore {
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError('semaphore capacity must be a positive integer');
  let held = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else held -= 1;
  };
  return {
    async run(work) {
      if (held < capacity) held += 1;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}
