/**
 * The failure converter, loaded by path (`failureConverterPath`) because it must also run inside the
 * workflow sandbox: the bundle includes this file, so it imports nothing but `@temporalio/common`.
 * `encodeCommonAttributes` moves failure messages and stack traces into an encoded payload, which
 * the payload codec then encrypts: an error text can quote vendor data.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
