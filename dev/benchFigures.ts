/**
 * What the benchmarks (`scripts/bench-*.ts`) share to report: printing, resident-memory sampling and
 * writing their figures to `bench-results/<name>.json`. Benchmarks measure; none asserts a time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../lib/config';

export const print = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

/** Resident memory of this process in MiB. */
export const rssMiB = (): number => Math.round(process.memoryUsage.rss() / 2 ** 20);

export interface RssSampler {
  /** Every sample so far, as [seconds since the start, MiB]. */
  readonly samples: Array<[number, number]>;
  stop(): { start: number; max: number; end: number };
}

/** The process's resident memory, sampled every `everyMs` until `stop()`: MiB at start, highest, at the end. */
export function sampleRss(everyMs = 1_000): RssSampler {
  const started = performance.now();
  const samples: Array<[number, number]> = [];
  const sample = () => samples.push([Math.round((performance.now() - started) / 1000), rssMiB()]);
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      sample();
      const values = samples.map(([, mib]) => mib);
      return { start: values[0]!, max: Math.max(...values), end: values.at(-1)! };
    },
  };
}

/** Writes `bench-results/<name>.json` and says where. */
export function writeBenchResult(name: string, result: unknown): void {
  const outDir = path.join(REPO_ROOT, 'bench-results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  print(`wrote ${file}`);
}
