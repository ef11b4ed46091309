/**
 * Behind a load balancer every connection comes from the balancer: the anonymous rate-limit bucket
 * (calls without a token) is per client only when API_TRUST_PROXY names the balancer, whose
 * X-Forwarded-For then says who the client is (issue #18, item 6).
 */
import { ConfigError, loadConfig } from '../../lib/config';
import { createHarness, type Harness } from './support/harness';

/** Two calls without a token per address, then 429; injected requests come from 127.0.0.1 (the balancer here). */
const TIGHT = {
  caller: { capacity: 100, refillPerSecond: 100 },
  workspace: { capacity: 100, refillPerSecond: 100 },
  anonymous: { capacity: 2, refillPerSecond: 0.001 },
};

/** Statuses of three anonymous calls from each of two clients behind the balancer. */
async function statusesPerClient(h: Harness): Promise<Record<string, number[]>> {
  const statuses: Record<string, number[]> = {};
  for (const client of ['203.0.113.7', '198.51.100.9']) {
    statuses[client] = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await h.app.inject({
        method: 'GET',
        url: '/v1/oauth/callback/github?state=not-a-state&code=c',
        headers: { 'x-forwarded-for': client },
      });
      statuses[client]!.push(response.statusCode);
    }
  }
  return statuses;
}

describe('client address behind a proxy', () => {
  it('T23: with API_TRUST_PROXY naming the balancer, each client behind it has its own anonymous bucket', async () => {
    const h = await createHarness({ rateLimits: TIGHT, trustProxy: ['127.0.0.1'] });
    try {
      expect(await statusesPerClient(h)).toEqual({ '203.0.113.7': [400, 400, 429], '198.51.100.9': [400, 400, 429] });
    } finally {
      await h.close();
    }
  });

  it('T23: without it, X-Forwarded-For is ignored: a caller cannot pick its own bucket', async () => {
    const h = await createHarness({ rateLimits: TIGHT });
    try {
      expect(await statusesPerClient(h)).toEqual({ '203.0.113.7': [400, 400, 429], '198.51.100.9': [429, 429, 429] });
    } finally {
      await h.close();
    }
  });

  it('API_TRUST_PROXY takes addresses and CIDRs and refuses "trust everyone"', () => {
    expect(loadConfig({}).api.trustProxy).toBeUndefined();
    expect(loadConfig({ API_TRUST_PROXY: '10.0.0.0/8, 192.168.1.4,fd00::/8,loopback' }).api.trustProxy).toEqual([
      '10.0.0.0/8',
      '192.168.1.4',
      'fd00::/8',
      'loopback',
    ]);
    for (const value of ['true', '*', '0.0.0.0/33', 'lb.internal', '10.0.0.1,']) {
      expect(() => loadConfig({ API_TRUST_PROXY: value })).toThrow(ConfigError);
    }
  });
});
