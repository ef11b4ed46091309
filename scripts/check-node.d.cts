/** Types of check-node.cjs (plain CommonJS so that it runs on any Node), for the tests. */
export interface SupportedRange {
  major: number;
  minimum: number[];
}
export function supportedRange(range: string): SupportedRange;
export function isSupported(version: string, range: SupportedRange): boolean;
/** The message explaining why this Node is refused; undefined when it is supported. */
export function check(version?: string): string | undefined;
