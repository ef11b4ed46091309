/**
 * Replay fixtures (`test/fixtures/histories/`): recorded histories of real runs, kept forever so
 * every workflow change is replayed against every shape a run in flight may have (a lifecycle
 * lives for months). `manifest.json` lists each fixture with the SHA-256 of its bytes: a fixture
 * deleted, renamed or re-recorded in place no longer matches it, and the replay test fails.
 * Recording never overwrites: a new shape of a workflow is saved under a new name. A fixture whose
 * shape no run can have any more (its patch was removed after a visibility query found no open run
 * from before it) is listed in `retired.json` with that evidence: kept, no longer replayed.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { PayloadCodec } from '@temporalio/common';

export const FIXTURES_DIR = path.resolve(__dirname, '..', 'test', 'fixtures', 'histories');
const MANIFEST = 'manifest.json';
const RETIRED = 'retired.json';

/** File → SHA-256 (manifest.json), or file → why it is no longer replayed (retired.json). */
type Manifest = Record<string, string>;

const sha256 = (bytes: Buffer | string) => crypto.createHash('sha256').update(bytes).digest('hex');

function readJson(dir: string, name: string): Manifest {
  const file = path.join(dir, name);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Manifest) : {};
}
const readManifest = (dir: string) => readJson(dir, MANIFEST);

function writeManifest(dir: string, manifest: Manifest): void {
  const sorted = Object.fromEntries(Object.entries(manifest).sort(([a], [b]) => a.localeCompare(b)));
  fs.writeFileSync(path.join(dir, MANIFEST), `${JSON.stringify(sorted, null, 2)}\n`);
}

/** The fixture files on disk (histories only). */
export function fixtureFiles(dir = FIXTURES_DIR): string[] {
  return fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.json') && file !== MANIFEST && file !== RETIRED)
    .sort();
}

/** The fixtures the replay test replays: all but the retired ones. */
export function replayedFixtures(dir = FIXTURES_DIR): string[] {
  const retired = readJson(dir, RETIRED);
  return fixtureFiles(dir).filter((file) => !(file in retired));
}

/** Fixture name with the recording's label (`RECORD_HISTORIES_LABEL`), e.g. `syncWorkflow-after-batching`. */
export function labelled(name: string, label = process.env.RECORD_HISTORIES_LABEL): string {
  return label ? `${name}-${label}` : name;
}

/**
 * Saves a history as `<name>.json` and lists it in the manifest. Refuses an existing name: the
 * fixture there is what runs of that shape look like, and they must keep replaying.
 */
export function saveFixture(name: string, historyJson: string, dir = FIXTURES_DIR): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new Error(`fixture name ${JSON.stringify(name)} is not a file name`);
  const file = `${name}.json`;
  const full = path.join(dir, file);
  if (fs.existsSync(full))
    throw new Error(
      `${file} exists and fixtures are kept forever: record the new shape under another name (a label saying what changed)`,
    );
  const bytes = `${historyJson}\n`;
  fs.writeFileSync(full, bytes, { flag: 'wx' });
  writeManifest(dir, { ...readManifest(dir), [file]: sha256(bytes) });
  return full;
}

/** What is wrong between the manifest and the files: deleted, changed or unlisted fixtures. */
export function fixtureManifestProblems(dir = FIXTURES_DIR): string[] {
  const manifest = readManifest(dir);
  const onDisk = new Set(fixtureFiles(dir));
  const problems: string[] = [];
  for (const [file, hash] of Object.entries(manifest)) {
    if (!onDisk.has(file)) problems.push(`${file}: deleted (fixtures are kept forever)`);
    else if (sha256(fs.readFileSync(path.join(dir, file))) !== hash)
      problems.push(`${file}: changed since it was recorded (record a new shape under a new name)`);
  }
  for (const file of onDisk)
    if (!(file in manifest)) problems.push(`${file}: not in ${MANIFEST} (save it with saveFixture)`);
  for (const [file, reason] of Object.entries(readJson(dir, RETIRED)))
    if (!(file in manifest) || !reason.trim()) problems.push(`${file}: retired without a recorded fixture or a reason`);
  return problems;
}

interface WirePayload {
  metadata: Record<string, string>;
  data?: string;
}

const isWirePayload = (value: unknown): value is WirePayload =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { metadata?: unknown }).metadata === 'object' &&
  typeof (value as WirePayload).metadata?.encoding === 'string';

/**
 * A history (`historyToJson` form) with every payload decoded by `codec`: a history fetched from an
 * encrypting deployment becomes a fixture that replays with no key. Development data only: a
 * decoded history holds whatever the run's inputs held.
 */
export async function decodeHistoryJson(historyJson: string, codec: PayloadCodec): Promise<string> {
  const decodeIn = async (value: unknown): Promise<unknown> => {
    if (isWirePayload(value)) {
      const [decoded] = await codec.decode([
        {
          metadata: Object.fromEntries(Object.entries(value.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
          data: Buffer.from(value.data ?? '', 'base64'),
        },
      ]);
      return {
        metadata: Object.fromEntries(
          Object.entries(decoded!.metadata ?? {}).map(([k, v]) => [
            k,
            Buffer.from(v ?? new Uint8Array()).toString('base64'),
          ]),
        ),
        data: Buffer.from(decoded!.data ?? new Uint8Array()).toString('base64'),
      };
    }
    if (Array.isArray(value)) return Promise.all(value.map(decodeIn));
    if (typeof value === 'object' && value !== null)
      return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await decodeIn(v)])));
    return value;
  };
  return JSON.stringify(await decodeIn(JSON.parse(historyJson)), null, 1);
}
