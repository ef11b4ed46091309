/**
 * A second implementation of docs/payload-encryption.md, written from that page alone: only
 * `node:crypto` and the page's constants, its own protobuf reading, nothing of the codec. If the
 * codec and the page drift apart, the tests that decode the service's payloads with this fail.
 */
import crypto from 'node:crypto';

/** The page's constants. */
export const SPEC = {
  encryptedEncoding: 'binary/encrypted',
  keyIdMetadataKey: 'encryption-key-id',
  ivBytes: 12,
  tagBytes: 16,
} as const;

export interface SpecPayload {
  metadata: Record<string, Buffer>;
  data: Buffer;
}

/** The key id: the first 8 bytes of SHA-256(key), lower-case hex. */
export const specKeyId = (key: Buffer) => crypto.createHash('sha256').update(key).digest('hex').slice(0, 16);

function readVarint(bytes: Buffer, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (let i = at; i < bytes.length; i++) {
    value += (bytes[i]! & 0x7f) * 2 ** shift;
    if ((bytes[i]! & 0x80) === 0) return [value, i + 1];
    shift += 7;
  }
  throw new Error('truncated varint');
}

/** Length-delimited fields of a protobuf message, by field number, in order (other wire types are skipped). */
function fields(bytes: Buffer): Array<[field: number, value: Buffer]> {
  const out: Array<[number, Buffer]> = [];
  for (let at = 0; at < bytes.length;) {
    const [tag, afterTag] = readVarint(bytes, at);
    const wireType = tag & 7;
    if (wireType === 2) {
      const [length, start] = readVarint(bytes, afterTag);
      if (start + length > bytes.length) throw new Error('truncated field');
      out.push([tag >>> 3, bytes.subarray(start, start + length)]);
      at = start + length;
    } else if (wireType === 0) at = readVarint(bytes, afterTag)[1];
    else if (wireType === 1) at = afterTag + 8;
    else if (wireType === 5) at = afterTag + 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
  return out;
}

/** `temporal.api.common.v1.Payload`: metadata (field 1, map<string, bytes> entries) and data (field 2). */
export function parsePayload(bytes: Buffer): SpecPayload {
  const payload: SpecPayload = { metadata: {}, data: Buffer.alloc(0) };
  for (const [field, value] of fields(bytes)) {
    if (field === 1) {
      const entry = Object.fromEntries(fields(value));
      payload.metadata[(entry[1] ?? Buffer.alloc(0)).toString('utf8')] = entry[2] ?? Buffer.alloc(0);
    } else if (field === 2) payload.data = value;
  }
  return payload;
}

/** Decrypts an outer payload with `keys` (by key id); an unencrypted payload is returned as it is. */
export function specDecrypt(outer: SpecPayload, keys: Buffer[]): SpecPayload {
  if (outer.metadata.encoding?.toString('utf8') !== SPEC.encryptedEncoding) return outer;
  const keyId = outer.metadata[SPEC.keyIdMetadataKey]?.toString('utf8');
  if (!keyId) throw new Error('no key id');
  const key = keys.find((k) => specKeyId(k) === keyId);
  if (!key) throw new Error(`unknown key id ${keyId}`);
  if (outer.data.length < SPEC.ivBytes + SPEC.tagBytes) throw new Error('truncated');
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, outer.data.subarray(0, SPEC.ivBytes), {
    authTagLength: SPEC.tagBytes,
  });
  decipher.setAAD(Buffer.from(keyId, 'ascii'));
  decipher.setAuthTag(outer.data.subarray(SPEC.ivBytes, SPEC.ivBytes + SPEC.tagBytes));
  const plaintext = Buffer.concat([
    decipher.update(outer.data.subarray(SPEC.ivBytes + SPEC.tagBytes)),
    decipher.final(),
  ]);
  return parsePayload(plaintext);
}
