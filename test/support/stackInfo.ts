export interface TestStackInfo {
  temporalAddress: string;
  testServerAddress: string;
  testServerExecutable: string;
  database: { superuserUrl: string; ownerUrl: string; appUrl: string };
  workflowBundlePath: string;
}

export function testStack(): TestStackInfo {
  const raw = process.env.TP_TEST_STACK;
  if (!raw) throw new Error('TP_TEST_STACK is not set: run the tests through jest (global setup starts the stack)');
  return JSON.parse(raw) as TestStackInfo;
}
