/**
 * The emulators' clock: real time plus an offset tests can move, so token expiry (1 h installation
 * tokens, 30-day webhooks) is tested without waiting while time still flows between requests.
 */
export interface EmulatorClock {
  now(): number;
  advance(ms: number): void;
}

export function createEmulatorClock(): EmulatorClock {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    advance: (ms) => {
      offsetMs += ms;
    },
  };
}
