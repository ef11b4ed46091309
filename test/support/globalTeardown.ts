import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as { __tpStack?: { child: ChildProcess; runDir: string } }).__tpStack;
  if (!stack) return;
  if (stack.child.exitCode === null) {
    const exited = new Promise((resolve) => stack.child.once('exit', resolve));
    stack.child.stdin?.end(); // the stack process stops everything when its stdin closes
    await exited;
  }
  fs.rmSync(stack.runDir, { recursive: true, force: true });
}
