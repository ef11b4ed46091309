/**
 * App-level webhook secrets (one for all customers: a GitHub App's webhook secret, a Slack app's
 * signing secret) are rotated by the operator, not per integration (T8): the new secret is set at
 * the vendor and in our configuration as the current one, the old one stays configured as the
 * previous one until the deliveries signed with it have drained, and both verify meanwhile.
 */
export function inForce(current: string, previous: string | undefined): readonly string[] {
  return previous && previous !== current ? [current, previous] : [current];
}
