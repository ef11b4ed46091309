/**
 * The fixture keeper (`dev/historyFixtures.ts`): a fixture is never overwritten, and deleting,
 * changing or adding one behind its back is reported; a history fetched from an encrypting
 * deployment is decoded into one that replays with no key.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  decodeHistoryJson,
  fixtureFiles,
  fixtureManifestProblems,
  replayedFixtures,
  saveFixture,
} from '../../dev/historyFixtures';
import { EncryptionCodec } from '@trackproject/integrations-client/codec';

describe('replay fixture keeper', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fixtures-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('saves a fixture with its hash and refuses to overwrite it', () => {
    saveFixture('syncWorkflow', '{"events":[]}', dir);
    expect(fixtureFiles(dir)).toEqual(['syncWorkflow.json']);
    expect(fixtureManifestProblems(dir)).toEqual([]);
    expect(() => saveFixture('syncWorkflow', '{"events":[1]}', dir)).toThrow(/kept forever/);
    expect(fs.readFileSync(path.join(dir, 'syncWorkflow.json'), 'utf8')).toBe('{"events":[]}\n');
    expect(() => saveFixture('../escape', '{}', dir)).toThrow(/not a file name/);
  });

  it('reports a deleted, a changed and an unlisted fixture', () => {
    saveFixture('a', '{"events":[]}', dir);
    saveFixture('b', '{"events":[]}', dir);
    fs.rmSync(path.join(dir, 'a.json'));
    fs.writeFileSync(path.join(dir, 'b.json'), '{"events":[{}]}\n');
    fs.writeFileSync(path.join(dir, 'c.json'), '{}\n');
    expect(fixtureManifestProblems(dir)).toEqual([
      'a.json: deleted (fixtures are kept forever)',
      'b.json: changed since it was recorded (record a new shape under a new name)',
      'c.json: not in manifest.json (save it with saveFixture)',
    ]);
  });

  it('a retired fixture stays on disk and in the manifest but is no longer replayed; retiring needs a recorded fixture and a reason', () => {
    saveFixture('old-shape', '{"events":[]}', dir);
    saveFixture('new-shape', '{"events":[]}', dir);
    fs.writeFileSync(
      path.join(dir, 'retired.json'),
      JSON.stringify({
        'old-shape.json': 'patch x removed 2027-01-01: 0 open runs started before it',
        'gone.json': 'x',
      }),
    );
    expect(fixtureFiles(dir)).toEqual(['new-shape.json', 'old-shape.json']);
    expect(replayedFixtures(dir)).toEqual(['new-shape.json']);
    expect(fixtureManifestProblems(dir)).toEqual(['gone.json: retired without a recorded fixture or a reason']);
  });

  it('decodes every encrypted payload of a history and leaves clear ones as they are', async () => {
    const codec = new EncryptionCodec([crypto.randomBytes(32)]);
    const clear = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"input"') };
    const [sealed] = await codec.encode([clear]);
    const wire = (p: typeof clear) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      data: Buffer.from(p.data).toString('base64'),
    });
    const history = JSON.stringify({
      events: [
        { workflowExecutionStartedEventAttributes: { input: { payloads: [wire(sealed as typeof clear)] } } },
        { markerRecordedEventAttributes: { details: { 'patch-data': { payloads: [wire(clear)] } } } },
      ],
    });
    const decoded = JSON.parse(await decodeHistoryJson(history, codec));
    expect(decoded.events[0].workflowExecutionStartedEventAttributes.input.payloads[0]).toEqual(wire(clear));
    expect(decoded.events[1].markerRecordedEventAttributes.details['patch-data'].payloads[0]).toEqual(wire(clear));
  });
});
