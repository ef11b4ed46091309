/**
 * Structured JSON logs (pino). Scrubbing happens at source (T25): known secret-bearing fields are
 * redacted by path, and every string is passed through `scrubText`, which masks bearer tokens,
 * JWTs, e-mail addresses and key=value credentials before the line is written.
 */
import pino, { type Logger } from 'pino';

const REDACTED = '[redacted]';

const SECRET_KEYS = [
  'password',
  'secret',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'idToken',
  'id_token',
  'clientSecret',
  'client_secret',
  'code',
  'codeVerifier',
  'code_verifier',
  'privateKey',
  'authorization',
  'cookie',
  'apiKey',
  'api_key',
  'credential',
  'credentials',
  'email',
  'plaintext',
];

const PATTERNS: Array<[RegExp, string]> = [
  [/\bBearer\s+[A-Za-z0-9\-._~+/]+=*/gi, `Bearer ${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  [/\b(gh[pousr]_[A-Za-z0-9]{20,})\b/g, REDACTED],
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, '[email]'],
  [/\b(password|secret|token|code|key|client_secret|refresh_token|access_token)=([^&\s"']+)/gi, `$1=${REDACTED}`],
  [/(postgres(?:ql)?:\/\/[^:/\s]+:)[^@\s]+@/gi, `$1${REDACTED}@`],
];

export function scrubText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Deep copy with secret-named keys redacted and every string scrubbed. */
export function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    return {
      type: value.name,
      message: scrubText(value.message),
      stack: value.stack ? scrubText(value.stack) : undefined,
    };
  }
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEYS.includes(key) || /secret|password|token/i.test(key) ? REDACTED : scrubValue(item, depth + 1);
  }
  return out;
}

export function createLogger(options: { level: string; name: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      base: { service: 'trackproject-integrations', process: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (object) => scrubValue(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          // Scrub the message string too, not only the merged object.
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? scrubText(arg) : arg)) as Parameters<typeof method>,
          );
        },
      },
    },
    options.destination,
  );
}

export type { Logger };
