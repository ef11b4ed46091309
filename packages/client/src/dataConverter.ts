/**
 * The data converter every worker and client uses: payloads encrypted by the codec, failure
 * messages and stack traces encoded (hence encrypted) by the failure converter. The SDK takes the
 * failure converter by path because the workflow bundle must include it.
 */
import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec } from './codec';

export const FAILURE_CONVERTER_PATH = require.resolve('./failureConverter');

export function createDataConverter(keys: readonly Uint8Array[]): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
