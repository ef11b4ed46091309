/**
 * docs/payload-encryption.md is precise enough to implement: its test vectors, read from the page,
 * decrypt with the independent implementation written from it (`specDecoder.ts`) and with the
 * service's codec; what the codec writes decrypts with the independent one; any changed byte fails.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EncryptionCodec } from '@trackproject/integrations-client/codec';
import { parsePayload, specDecrypt, specKeyId, type SpecPayload } from './specDecoder';

const page = fs.readFileSync(path.join(__dirname, '../../docs/payload-encryption.md'), 'utf8');
const vector = Object.fromEntries(
  page
    .slice(page.indexOf('## Test vectors'))
    .split('```text')[1]!
    .split('```')[0]!
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/, 2) as [string, string]),
);
const key = Buffer.from(/^Key \(base64\) `([^`]+)`/m.exec(page)![1]!, 'base64');
const outer: SpecPayload = {
  metadata: { encoding: Buffer.from('binary/encrypted'), 'encryption-key-id': Buffer.from(vector['key-id']!) },
  data: Buffer.from(vector['outer-data-base64']!, 'base64'),
};

describe('payload encryption, as docs/payload-encryption.md specifies it', () => {
  it("the page's vector is consistent: key id, iv ‖ tag ‖ ciphertext, plaintext = the inner payload's protobuf", () => {
    expect(specKeyId(key)).toBe(vector['key-id']);
    expect(outer.data.toString('hex')).toBe(vector['iv-hex']! + vector['tag-hex']! + vector['ciphertext-hex']!);
    const inner = parsePayload(Buffer.from(vector['plaintext-hex']!, 'hex'));
    expect(inner.metadata.encoding!.toString()).toBe(vector['inner-encoding']);
    expect(inner.data.toString()).toBe(vector['inner-data']);
  });

  it('the independent implementation and the service codec both decrypt the vector to the inner payload', async () => {
    const bySpec = specDecrypt(outer, [key]);
    expect(bySpec.metadata.encoding!.toString()).toBe(vector['inner-encoding']);
    expect(bySpec.data.toString()).toBe(vector['inner-data']);
    const [byCodec] = await new EncryptionCodec([key]).decode([outer]);
    expect(Buffer.from(byCodec!.metadata!.encoding!).toString()).toBe(vector['inner-encoding']);
    expect(Buffer.from(byCodec!.data!).toString()).toBe(vector['inner-data']);
  });

  it('what the service codec writes, the independent implementation reads (fresh IV each time); other keys too after rotation', async () => {
    const previous = crypto.randomBytes(32);
    const current = crypto.randomBytes(32);
    const inner = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"pages":3}') };
    const codec = new EncryptionCodec([current, previous]);
    const [a, b] = await codec.encode([inner, inner]);
    const [old] = await new EncryptionCodec([previous]).encode([inner]);
    const asSpec = (p: typeof a): SpecPayload => ({
      metadata: Object.fromEntries(Object.entries(p!.metadata!).map(([k, v]) => [k, Buffer.from(v!)])),
      data: Buffer.from(p!.data!),
    });
    expect(Object.keys(a!.metadata!).sort()).toEqual(['encoding', 'encryption-key-id']);
    expect(Buffer.from(a!.data!).subarray(0, 12)).not.toEqual(Buffer.from(b!.data!).subarray(0, 12));
    for (const written of [a, b, old]) {
      const decoded = specDecrypt(asSpec(written), [previous, current]);
      expect(decoded.data.toString()).toBe('{"pages":3}');
    }
    expect(asSpec(old).metadata['encryption-key-id']!.toString()).toBe(specKeyId(previous));
  });

  it('a changed byte anywhere in iv, tag or ciphertext, or a relabelled key id, fails both implementations', async () => {
    const codec = new EncryptionCodec([key, crypto.randomBytes(32)]);
    const other = specKeyId(crypto.randomBytes(32));
    for (const at of [0, 11, 12, 27, 28, outer.data.length - 1]) {
      const data = Buffer.from(outer.data);
      data[at]! ^= 0x01;
      const tampered = { ...outer, data };
      expect(() => specDecrypt(tampered, [key])).toThrow();
      await expect(codec.decode([tampered])).rejects.toThrow(/failed authentication/);
    }
    const relabelled = { ...outer, metadata: { ...outer.metadata, 'encryption-key-id': Buffer.from(other) } };
    expect(() => specDecrypt(relabelled, [key])).toThrow(/unknown key id/);
  });
});
