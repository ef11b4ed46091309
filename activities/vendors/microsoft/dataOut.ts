/** Data out (T19): each row's actions, refused before any request when the row does not list them. */
import type { ConnectorContext } from '../types';
import { microsoftDescriptors } from './descriptor';
import { microsoftRow, refused } from './guards';
import { sendMail } from './mail';
import type { MicrosoftPlatform } from './platform';
import { postChannelMessage } from './teamsMessages';
import { uploadToAppFolder, uploadToSite } from './uploads';

export async function perform(
  platform: MicrosoftPlatform,
  ctx: ConnectorContext,
  action: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const id = microsoftRow(ctx.vendor);
  if (!microsoftDescriptors[id].dataOut.includes(action)) {
    // Refused before any request, and still recorded (T10, T19).
    return ctx.audit({ action: `data-out.${action}`, scope: 'none' }, async () => {
      throw refused(id, `data out "${action}" is not in the matrix row`);
    });
  }
  switch (id) {
    case 'microsoft365':
      return sendMail(platform, ctx, action, input);
    case 'sharepoint':
      return uploadToSite(platform, ctx, input);
    case 'onedrive':
      return uploadToAppFolder(platform, ctx, input);
    case 'teams':
    case 'entra': // lists no data out: refused above
      return postChannelMessage(platform, ctx, action, input);
  }
}
