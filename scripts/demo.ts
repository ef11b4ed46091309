/**
 * `npm run demo`: drives the API against the sandbox vendors, as a workspace admin would —
 * list vendors, connect GitHub (through the authorize hand-off, then like a browser), sync, a signed
 * webhook (issue edited, issue deleted) and the sync it causes, rotate, disconnect, the consent
 * ledger; then Google Drive (the sandbox's picked files) and Google Workspace sign-in, connected,
 * synced and disconnected; Slack: connect, the channel picker, re-consent with a picked channel, a
 * notification to it (another channel refused), disconnect; sign in with Okta (OIDC, then SAML with our SP metadata) and disconnect it; the audit log —
 * and prints each step with its workflow id and Temporal UI link.
 *
 * By default it starts the whole service itself, like `SANDBOX_VENDORS=true npm start` but on free
 * ports with a throw-away data folder, and stops all of it at the end. With TP_DEMO_API_URL it
 * drives an already running `SANDBOX_VENDORS=true npm start` instead (same DATA_DIR, for the token
 * secret); the webhook step then needs TP_DEMO_SANDBOX_CONTROL_URL, the sandbox `control` URL that
 * `npm start` prints, and the Google step TP_DEMO_GOOGLE_PICKED_FILES (the sandbox's
 * `googlePickedFiles`). Exit 0 when every step succeeded, 1 with the failed steps listed otherwise.
 */
import crypto from 'node:crypto';
import { loadConfig } from '../lib/config';
import {
  adminToken,
  apiClient,
  connectGithub,
  connectGoogle,
  consentOAuth,
  connectOkta,
  connectSaml,
  SANDBOX_GITHUB_REPOS,
  SANDBOX_GOOGLE_DOMAIN,
  StepFailed,
  until,
  type Run,
} from '../dev/sandboxDriver';
import { startThrowawayService, type ThrowawayService } from '../dev/serviceProcesses';
import { ToolMissingError } from '../dev/tools';

/** Audit reads are themselves audited: poll the log gently so the summary stays readable. */
const AUDIT_POLL_MS = 1_000;
/** A rotation (new credential, test call, promotion) takes seconds; this bounds a missing one. */
const ROTATION_TIMEOUT_MS = 30_000;

const print = (line = '') => process.stdout.write(`${line}\n`);

interface SyncProgress {
  state: string;
  pages: number;
  recordsUpserted: number;
  recordsDeleted: number;
  startedAt?: string;
  finishedAt?: string;
}
interface AuditEntry {
  action: string;
  outcome: string;
  workflowId: string | null;
  direction: string;
}

const printRun = (run: Run) => print(`     workflow  ${run.workflowId}\n     Temporal  ${run.links.temporalUi}`);

async function main(): Promise<number> {
  const external = process.env.TP_DEMO_API_URL;
  let own: ThrowawayService | undefined;
  const failures: string[] = [];
  try {
    own = external
      ? undefined
      : await startThrowawayService({
          log: (line) => print(`  ${line}`),
          onChildExit: (name, code) => print(`!! ${name} exited (${code}) during the demo`),
        });
    const config = own?.config ?? loadConfig(process.env);
    const apiUrl = external?.replace(/\/+$/, '') ?? own!.service.apiUrl;
    const controlUrl = own?.service.sandbox?.urls.control ?? process.env.TP_DEMO_SANDBOX_CONTROL_URL;
    const sandboxUrls = own?.service.sandbox?.urls ?? {};
    const googlePicks = sandboxUrls.googlePickedFiles ?? process.env.TP_DEMO_GOOGLE_PICKED_FILES;
    const oktaOrg = sandboxUrls.okta ?? process.env.TP_DEMO_OKTA_ORG_URL;
    const oktaClientId = sandboxUrls.oktaClientId ?? process.env.TP_DEMO_OKTA_CLIENT_ID;
    const oktaSamlMetadata = sandboxUrls.oktaSamlMetadata ?? process.env.TP_DEMO_OKTA_SAML_METADATA_URL;
    const workspaceId = crypto.randomUUID();
    const api = apiClient(apiUrl, await adminToken(config, workspaceId, 'demo-admin'));
    const base = `/v1/workspaces/${workspaceId}`;

    print();
    print(`API ${apiUrl}   Temporal UI ${config.temporal.uiUrl}`);
    print(`Workspace ${workspaceId} (admin token minted for it)`);
    let integrationPath = '';

    /** Runs one step; a failed step is recorded and the next ones still run (disconnect cleans up). */
    const step = async (title: string, body: () => Promise<void>, needsIntegration = true) => {
      print();
      print(`▶ ${title}`);
      if (needsIntegration && !integrationPath) {
        print('  – skipped: no integration was connected');
        failures.push(`${title}: skipped`);
        return;
      }
      try {
        await body();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        print(`  ✗ ${message}`);
        failures.push(`${title}: ${message}`);
        if (!(error instanceof StepFailed)) throw error;
      }
    };
    const syncProgress = async () => api<{ progress: SyncProgress } & Run>('GET', `${integrationPath}/sync`, 200);
    const printProgress = (p: SyncProgress) =>
      print(`     ${p.state}: ${p.recordsUpserted} records upserted, ${p.recordsDeleted} deleted, ${p.pages} pages`);

    await step(
      'List vendors',
      async () => {
        const { vendors } = await api<{
          vendors: Array<{ id: string; authKind: string; scopes: { required: string[] } }>;
        }>('GET', '/v1/vendors', 200);
        for (const vendor of vendors)
          print(`     ${vendor.id.padEnd(22)} ${vendor.authKind.padEnd(18)} ${vendor.scopes.required.join(' ')}`);
      },
      false,
    );

    await step(
      `Connect GitHub (repositories ${SANDBOX_GITHUB_REPOS.join(', ')})`,
      async () => {
        const connection = await connectGithub(api, workspaceId);
        integrationPath = connection.integrationPath;
        print(`     202 ${connection.accepted.status}, integration ${connection.integrationId}`);
        printRun(connection.accepted);
        print(
          `     authorize hand-off (consent session cookie) → install page → setup → authorize → callback ${connection.callbackStatus}`,
        );
        print(`     connected; granted ${connection.grantedScopes.join(' ')}`);
      },
      false,
    );

    await step('Sync now', async () => {
      const accepted = await api<Run & { status: string }>('POST', `${integrationPath}/sync`, 202, {});
      print(`     202 ${accepted.status}`);
      printRun(accepted);
      const done = await until('sync finished', async () => {
        const { progress } = await syncProgress();
        return progress.state === 'completed' || progress.state === 'failed' ? progress : undefined;
      });
      printProgress(done);
      if (done.state !== 'completed') throw new StepFailed('the sync failed');
    });

    await step('GitHub webhooks: issue edited, issue deleted (signed, to the app webhook URL)', async () => {
      if (!controlUrl)
        throw new StepFailed('TP_DEMO_SANDBOX_CONTROL_URL is not set: no way to make GitHub send a delivery');
      const sentAt = new Date().toISOString();
      for (const [issue, action] of [
        [1, 'edited'],
        [2, 'deleted'],
      ] as const) {
        const response = await fetch(`${controlUrl}/github/issues/${SANDBOX_GITHUB_REPOS[1]}/${issue}/${action}`, {
          method: 'POST',
        });
        const delivery = (await response.json()) as {
          event?: string;
          deliveryId?: string;
          receiverStatus?: number;
          detail?: string;
        };
        if (!response.ok) throw new StepFailed(`sandbox control answered ${response.status}: ${delivery.detail}`);
        print(
          `     ${delivery.event} ${SANDBOX_GITHUB_REPOS[1]}#${issue}, delivery ${delivery.deliveryId} → API ${delivery.receiverStatus}`,
        );
        if (delivery.receiverStatus !== 202)
          throw new StepFailed(`the webhook receiver answered ${delivery.receiverStatus}`);
      }
      // The deletion asks for a full round of issues, which reconciles the deleted issue away.
      const done = await until('sync after the webhooks', async () => {
        const run = await syncProgress();
        const { progress } = run;
        const after = progress.startedAt !== undefined && progress.startedAt >= sentAt;
        return after && progress.recordsDeleted > 0 && (progress.state === 'completed' || progress.state === 'failed')
          ? run
          : undefined;
      });
      printRun(done);
      printProgress(done.progress);
      if (done.progress.state !== 'completed') throw new StepFailed('the webhook-triggered sync failed');
    });

    await step('Rotate now', async () => {
      const accepted = await api<Run & { status: string }>('POST', `${integrationPath}/rotate`, 202);
      print(`     202 ${accepted.status}`);
      printRun(accepted);
      // The rotation run writes audit entries under its workflow id: that is its visible trace.
      const entries = await until(
        'rotation run recorded in the audit log',
        async () => {
          const { entries } = await api<{ entries: AuditEntry[] }>('GET', `${base}/audit?limit=200`, 200);
          const mine = entries.filter(
            (entry) => entry.workflowId === accepted.workflowId && entry.direction !== 'inbound',
          );
          return mine.length > 0 ? mine : undefined;
        },
        { timeoutMs: ROTATION_TIMEOUT_MS, pollMs: AUDIT_POLL_MS },
      );
      for (const entry of entries.reverse()) print(`     audit: ${entry.action} ${entry.outcome}`);
    });

    await step('Disconnect', async () => {
      const accepted = await api<Run & { status: string; purgeDeadline?: string }>('DELETE', integrationPath, 202);
      print(`     202 ${accepted.status}; cached data purged by ${accepted.purgeDeadline}`);
      printRun(accepted);
      const row = await until('integration disconnected', async () => {
        const current = await api<{ status: string; purgeAfter?: string }>('GET', integrationPath, 200);
        return current.status === 'disconnected' ? current : undefined;
      });
      print(`     disconnected; purge after ${row.purgeAfter}`);
    });

    await step('Consent ledger', async () => {
      const { consents } = await api<{
        consents: Array<{ at: string; actor: { id: string }; action: string; scopes: string[] }>;
      }>('GET', `${integrationPath}/consents`, 200);
      for (const entry of consents.reverse())
        print(`     ${entry.at} ${entry.action.padEnd(13)} by ${entry.actor.id}: ${entry.scopes.join(' ')}`);
      if (!consents.some((entry) => entry.action === 'granted')) throw new StepFailed('no consent was recorded');
    });

    await step(
      'Google Drive (picked files only) and Google Workspace sign-in: connect, first sync, disconnect (revoked at Google)',
      async () => {
        if (!googlePicks) throw new StepFailed('TP_DEMO_GOOGLE_PICKED_FILES is not set: no picked files to connect');
        const rows: Array<['google-drive' | 'google-workspace', Record<string, string[]>]> = [
          ['google-drive', { files: googlePicks.split(',') }],
          ['google-workspace', { tenant: [SANDBOX_GOOGLE_DOMAIN] }],
        ];
        for (const [row, controls] of rows) {
          const connection = await connectGoogle(api, workspaceId, row, controls);
          print(
            `     ${row}: connected (callback ${connection.callbackStatus}); granted ${connection.grantedScopes.join(' ')}`,
          );
          printRun(connection.accepted);
          const synced = await until(`${row} first sync`, async () => {
            const { live } = await api<{ live?: { lastSync?: SyncProgress } }>('GET', connection.integrationPath, 200);
            return live?.lastSync?.state === 'completed' ? live.lastSync : undefined;
          });
          printProgress(synced);
          await api('DELETE', connection.integrationPath, 202);
          const disconnected = await until(`${row} disconnected`, async () => {
            const current = await api<{ status: string }>('GET', connection.integrationPath, 200);
            return current.status === 'disconnected' ? current : undefined;
          });
          print(`     ${row}: ${disconnected.status} (grant revoked at Google)`);
        }
      },
      false,
    );

    await step(
      'Slack: connect, pick a channel, re-consent with it, notify it (another channel refused), disconnect',
      async () => {
        const slack = await consentOAuth(api, { workspaceId, vendor: 'slack', controls: { channels: [] } });
        print(
          `     connected (PKCE consent at Slack, callback ${slack.callbackStatus}); granted ${slack.grantedScopes.join(' ')}`,
        );
        const picker = await api<{ choices: Array<{ id: string; name: string; appIsMember?: boolean }> }>(
          'GET',
          `${slack.integrationPath}/controls/choices`,
          200,
        );
        for (const choice of picker.choices)
          print(`     #${choice.name.padEnd(16)} ${choice.id}${choice.appIsMember ? '' : '  (app not invited)'}`);
        const [picked, other] = picker.choices.filter((choice) => choice.appIsMember);
        if (!picked || !other) throw new StepFailed('the sandbox workspace should list two channels the app is in');
        await consentOAuth(api, { integrationPath: slack.integrationPath, controls: { channels: [picked.id] } });
        print(`     re-consented with #${picked.name} selected`);
        const outcome = async (channelId: string) => {
          const started = await api<Run & { links: { status: string } }>(
            'POST',
            `${slack.integrationPath}/actions`,
            202,
            {
              action: 'workflow-notification',
              input: { channelId, text: 'Level 3 slab poured; inspection booked for 7:00.' },
            },
          );
          return until('action finished', async () => {
            const state = await api<{ status: string; failure?: string }>('GET', started.links.status, 200);
            return state.status === 'running' ? undefined : state;
          });
        };
        const sent = await outcome(picked.id);
        print(`     notify #${picked.name}: ${sent.status}`);
        const refused = await outcome(other.id);
        print(`     notify #${other.name}: ${refused.status} (${refused.failure ?? 'no failure'})`);
        if (sent.status !== 'completed' || refused.failure !== 'OutsideCustomerControls')
          throw new StepFailed('the selected channel must get the message and only it');
        await api('DELETE', slack.integrationPath, 202);
        await until('Slack disconnected', async () => {
          const row = await api<{ status: string }>('GET', slack.integrationPath, 200);
          return row.status === 'disconnected' ? row : undefined;
        });
        print('     disconnected (auth.revoke at Slack)');
      },
      false,
    );

    await step(
      'Sign in with Okta (federated identity: the org URL and its OIDC client id, no secret), then disconnect',
      async () => {
        if (!oktaOrg || !oktaClientId)
          throw new StepFailed('TP_DEMO_OKTA_ORG_URL / TP_DEMO_OKTA_CLIENT_ID are not set: no Okta org to sign in at');
        const connection = await connectOkta(api, workspaceId, { url: oktaOrg, clientId: oktaClientId });
        print(`     202 ${connection.accepted.status}, integration ${connection.integrationId}`);
        printRun(connection.accepted);
        print(`     authorize hand-off → Okta sign-in (PKCE S256) → callback ${connection.callbackStatus}`);
        print(`     connected; granted ${connection.grantedScopes.join(' ')}`);
        const disconnected = await api<Run & { status: string }>('DELETE', connection.integrationPath, 202);
        printRun(disconnected);
        await until('Okta integration disconnected', async () => {
          const current = await api<{ status: string }>('GET', connection.integrationPath, 200);
          return current.status === 'disconnected' ? current : undefined;
        });
        print('     disconnected: the sign-in token was revoked at the org');
      },
      false,
    );

    await step(
      'Sign in with Okta over SAML (our SP metadata uploaded to the org’s SAML app; the org’s metadata URL at connect), then disconnect',
      async () => {
        if (!oktaSamlMetadata)
          throw new StepFailed('TP_DEMO_OKTA_SAML_METADATA_URL is not set: no Okta SAML app to sign in with');
        const spMetadata = await fetch(`${apiUrl}/v1/saml/okta/metadata`);
        print(
          `     our SP metadata: GET /v1/saml/okta/metadata → ${spMetadata.status} ${spMetadata.headers.get('content-type')}`,
        );
        const connection = await connectSaml(api, workspaceId, 'okta', oktaSamlMetadata);
        print(`     202 ${connection.accepted.status}, integration ${connection.integrationId}`);
        printRun(connection.accepted);
        print(
          `     authorize hand-off → Okta SSO (AuthnRequest) → signed assertion POSTed to our ACS → 303 → callback ${connection.callbackStatus}`,
        );
        print(`     connected; granted ${connection.grantedScopes.join(' ')}`);
        const disconnected = await api<Run & { status: string }>('DELETE', connection.integrationPath, 202);
        printRun(disconnected);
        await until('Okta SAML integration disconnected', async () => {
          const current = await api<{ status: string }>('GET', connection.integrationPath, 200);
          return current.status === 'disconnected' ? current : undefined;
        });
        print('     disconnected: SAML left no token at the org; the kept identity ids and the metadata are destroyed');
      },
      false,
    );

    await step(
      'Audit log',
      async () => {
        const { entries } = await api<{ entries: AuditEntry[] }>('GET', `${base}/audit?limit=200`, 200);
        const counts = new Map<string, number>();
        for (const entry of entries) {
          const key = `${entry.direction.padEnd(9)} ${entry.action.padEnd(36)} ${entry.outcome}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        print(`     ${entries.length} entries`);
        for (const [key, count] of [...counts].sort()) print(`     ${String(count).padStart(4)}  ${key}`);
      },
      false,
    );
  } finally {
    if (own) {
      print();
      print('Stopping the service…');
      await own.dispose();
    }
  }

  print();
  if (failures.length === 0) {
    print('Demo complete: every step succeeded.');
    return 0;
  }
  print(`Demo FAILED (${failures.length} step${failures.length > 1 ? 's' : ''}):`);
  for (const failure of failures) print(`  - ${failure}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    print(
      error instanceof ToolMissingError
        ? error.message
        : `demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  },
);
