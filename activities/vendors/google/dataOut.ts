/**
 * Data out (T19): Drive's one action, a generated export uploaded into a folder the user picked
 * (T18: `controls.files` must hold the folder). `drive.file` lets the app create files there; the
 * export then belongs to the files the app created, which Drive keeps visible to it.
 */
import { Readable } from 'node:stream';
import { optionalString, requireString } from '../shared/actionInput';
import type { ConnectorContext } from '../types';
import { googleDescriptors } from './descriptor';
import { assertPicked, googleRow, refused } from './guards';
import type { GooglePlatform } from './platform';

/** One plain file name: no separators or control characters. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what the name must not contain
const SAFE_FILE_NAME = /^(?!\.{1,2}$)[^/\\\u0000-\u001f]{1,200}$/;
const MAX_EXPORT_BYTES = 10 * 1024 * 1024;

export async function perform(
  platform: GooglePlatform,
  ctx: ConnectorContext,
  action: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const id = googleRow(ctx.vendor);
  if (!googleDescriptors[id].dataOut.includes(action)) {
    // Refused before any request, and still recorded (T10, T19).
    return ctx.audit({ action: `data-out.${action}`, scope: 'none' }, async () => {
      throw refused(id, `data out "${action}" is not in the matrix row`);
    });
  }
  const folderId = requireString(id, input, 'folderId');
  const fileName = requireString(id, input, 'fileName');
  const mimeType = optionalString(id, input, 'contentType') ?? 'application/octet-stream';
  const content = Buffer.from(requireString(id, input, 'contentBase64'), 'base64');
  const { data } = await platform.driveCall(
    ctx,
    { action: 'files.create', scope: 'drive.file' },
    (drive) =>
      drive.files.create(
        {
          requestBody: { name: fileName, parents: [folderId], mimeType },
          media: { mimeType, body: Readable.from(content) },
          fields: 'id,name,webViewLink',
          supportsAllDrives: true,
        },
        // The SDK builds the upload URL from the call's rootUrl, not the client's.
        { rootUrl: platform.endpoints.apiRootUrl },
      ),
    () => {
      assertPicked(ctx, folderId);
      if (!SAFE_FILE_NAME.test(fileName)) throw refused(id, 'file name must be a single plain segment');
      if (content.length > MAX_EXPORT_BYTES) throw refused(id, 'export larger than 10 MB');
    },
  );
  return { fileId: data.id, webViewLink: data.webViewLink };
}
