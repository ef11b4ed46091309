/** Teams data out: a message posted to an admin-selected channel (T18); Teams reads nothing from Graph. */
import type { ConnectorContext } from '../types';
import { assertChannelSelected } from './guards';
import type { MicrosoftPlatform } from './platform';

export async function postChannelMessage(
  platform: MicrosoftPlatform,
  ctx: ConnectorContext,
  action: string,
  input: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const teamId = String(input.teamId ?? '');
  const channelId = String(input.channelId ?? '');
  const message = await platform.graphCall(
    ctx,
    { action: `teams.message.${action}`, scope: 'ChannelMessage.Send' },
    (client) =>
      client
        .api(`/teams/${encodeURIComponent(teamId)}/channels/${encodeURIComponent(channelId)}/messages`)
        .post({ body: { contentType: 'html', content: String(input.html ?? '') } }),
    () => assertChannelSelected(ctx, teamId, channelId),
  );
  return { messageId: message.id };
}
