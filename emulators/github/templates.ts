/**
 * Response bodies start from GitHub's own published examples (`@octokit/openapi`) so every field the
 * real API returns is present with the right type; the emulator overrides only what it tracks.
 * Webhook payloads start from `@octokit/webhooks-examples` the same way.
 */
import webhookExamples from '@octokit/webhooks-examples';

type Json = Record<string, unknown>;

interface OpenApiDocument {
  components: { examples: Record<string, { value: unknown }> };
}

let examples: OpenApiDocument['components']['examples'] | undefined;

function example(name: string): unknown {
  // The spec is 13 MB: load it once, on first use.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy, synchronous load of a JSON file
  examples ??= (require('@octokit/openapi/generated/api.github.com.json') as OpenApiDocument).components.examples;
  const found = examples[name];
  if (!found) throw new Error(`GitHub OpenAPI has no example ${name}`);
  return structuredClone(found.value);
}

export const githubTemplates = {
  issue: () => example('issue') as Json,
  release: () => (example('release-items') as Json[])[0]!,
  repository: () => ((example('repository-paginated-2') as Json).repositories as Json[])[0]!,
  issueComment: () => example('issue-comment') as Json,
  status: () => example('status') as Json,
  installationToken: () => example('installation-token') as Json,
  installation: () => ((example('base-installation-for-auth-user-paginated') as Json).installations as Json[])[0]!,
};

/** A published webhook example payload for `event` / `action`. */
export function webhookExample(event: string, action: string): Json {
  const group = (webhookExamples as Array<{ name: string; examples: Json[] }>).find((entry) => entry.name === event);
  const payload = group?.examples.find((item) => item.action === action);
  if (!payload) throw new Error(`no published example for ${event}.${action}`);
  return structuredClone(payload);
}
