/**
 * Child process that owns the test stack: starts it, writes its addresses to a file, and stops it
 * when stdin closes (Jest's teardown, or the parent dying, which also closes the pipe).
 */
import fs from 'node:fs';
import { freePort } from '../../dev/processes';
import { startStack } from '../../dev/stack';

async function main(): Promise<void> {
  const [runDir, infoFile] = process.argv.slice(2) as [string, string];
  const stack = await startStack({
    dataDir: runDir,
    persistent: false,
    temporal: { port: await freePort(), namespace: 'default' },
    postgres: { port: await freePort() },
    testServer: true,
    log: (line) => {
      if (!/SLF4J/.test(line)) process.stderr.write(`${line}\n`);
    },
  });
  const info = {
    temporalAddress: stack.temporalAddress,
    testServerAddress: stack.testServerAddress,
    testServerExecutable: stack.testServerExecutable,
    database: stack.database,
  };
  fs.writeFileSync(`${infoFile}.tmp`, JSON.stringify(info));
  fs.renameSync(`${infoFile}.tmp`, infoFile);
  process.stdin.resume();
  process.stdin.once('end', () => {
    void stack.stop().then(() => process.exit(0));
  });
}

main().catch((error) => {
  process.stderr.write(`test stack failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
