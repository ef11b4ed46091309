/** The bundle tests run: every production workflow plus the test-only fixtures. */
export * from '../../workflows';
export * from './fixtureWorkflows';
