/** Drive data out: exports uploaded to an admin-selected SharePoint site (T18) or to the OneDrive app folder. */
import type { AuditedCall, ConnectorContext } from '../types';
import { assertSiteSelected, refused } from './guards';
import type { MicrosoftPlatform } from './platform';

/** A file name we write must be one plain segment: no path can leave the app folder or the site's drive root. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what the name must not contain
const SAFE_FILE_NAME = /^(?!\.{1,2}$)[^/\\:*?"<>|#%\u0000-\u001f]{1,200}$/;

export function uploadToSite(
  platform: MicrosoftPlatform,
  ctx: ConnectorContext,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const siteId = String(input.siteId ?? '');
  return upload(
    platform,
    ctx,
    { action: 'site.upload', scope: 'Files.ReadWrite.Selected' },
    (fileName) => `/sites/${encodeURIComponent(siteId)}/drive/root:/${encodeURIComponent(fileName)}:/content`,
    input,
    () => assertSiteSelected(ctx, siteId),
  );
}

export function uploadToAppFolder(
  platform: MicrosoftPlatform,
  ctx: ConnectorContext,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  return upload(
    platform,
    ctx,
    { action: 'approot.upload', scope: 'Files.ReadWrite.AppFolder' },
    (fileName) => `/me/drive/special/approot:/${encodeURIComponent(fileName)}:/content`,
    input,
  );
}

async function upload(
  platform: MicrosoftPlatform,
  ctx: ConnectorContext,
  call: AuditedCall,
  path: (fileName: string) => string,
  input: Record<string, unknown>,
  precheck?: () => void,
): Promise<Record<string, unknown>> {
  const fileName = String(input.fileName ?? '');
  const item = await platform.graphCall(
    ctx,
    call,
    (client) =>
      client
        .api(path(fileName))
        .header('Content-Type', String(input.contentType ?? 'application/octet-stream'))
        .put(Buffer.from(String(input.contentBase64 ?? ''), 'base64')),
    () => {
      precheck?.();
      if (!SAFE_FILE_NAME.test(fileName)) throw refused(ctx.vendor, 'file name must be a single plain segment');
    },
  );
  return { itemId: item.id, webUrl: item.webUrl };
}
