/** Microsoft 365 data out: notifications and document links by mail, only with the optional Mail.Send granted. */
import { VendorError, VendorFailureType } from '../errors';
import type { ConnectorContext } from '../types';
import type { MicrosoftPlatform } from './platform';

export async function sendMail(
  platform: MicrosoftPlatform,
  ctx: ConnectorContext,
  action: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const to = stringList(input.to);
  const subject = String(input.subject ?? '');
  const content =
    action === 'document-link'
      ? `${String(input.text ?? '')}\n${String(input.documentUrl ?? '')}`
      : String(input.text ?? '');
  await platform.graphCall(
    ctx,
    { action: `mail.send.${action}`, scope: 'Mail.Send' },
    (client) =>
      client.api('/me/sendMail').post({
        message: {
          subject,
          body: { contentType: 'Text', content },
          toRecipients: to.map((address) => ({ emailAddress: { address } })),
        },
        saveToSentItems: false,
      }),
    () => {
      if (!ctx.credential.grantedScopes.includes('Mail.Send'))
        throw new VendorError(VendorFailureType.MissingScope, ctx.vendor, 'Mail.Send was not granted (optional scope)');
      if (to.length === 0) throw new VendorError(VendorFailureType.VendorRejected, ctx.vendor, 'no recipients');
    },
  );
  return { sent: true, recipients: to.length };
}

function stringList(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((entry): entry is string => typeof entry === 'string' && entry.length > 0)
    : [];
}
