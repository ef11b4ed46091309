/**
 * Compile-time checks of the catalog (`tsc` checks `test/`; Jest never runs this file): a family
 * built in the catalog but without a connector factory or a sandbox emulator does not compile.
 */
import type { ConnectorFactories } from '../../workers/vendors';
import { CONNECTOR_FACTORIES } from '../../workers/vendors';
import { SANDBOX_ENTRIES } from '../../emulators/sandbox';

const { jira: _jira, ...withoutJira } = CONNECTOR_FACTORIES;
// @ts-expect-error: jira is built in the catalog, so a factory record without it is not ConnectorFactories.
export const unwiredConnector: ConnectorFactories = withoutJira;

const { microsoft: _microsoft, ...withoutMicrosoft } = SANDBOX_ENTRIES;
// @ts-expect-error: microsoft is built in the catalog, so the sandbox must have its emulator.
export const unwiredSandbox: typeof SANDBOX_ENTRIES = withoutMicrosoft;

// Only a family of the catalog has a connector: wiring any other is an error too (no stray factories).
export const strayFactory: ConnectorFactories = {
  ...CONNECTOR_FACTORIES,
  // @ts-expect-error: not a family of the catalog.
  'not-a-family': () => CONNECTOR_FACTORIES.github(undefined as never),
};
