// Test files never read the developer's Temporal profile or a stray TEMPORAL_ADDRESS.
process.env.TEMPORAL_CONFIG_FILE = '/dev/null';
process.env.NODE_ENV = 'test';
