/**
 * An https front for a plain-http origin on loopback: what a TLS-terminating proxy or tunnel is to
 * a local API. Vendors that deliver only to https (Graph change notifications) reach an API whose
 * public URL is `http://localhost:…` through it. Requests are forwarded verbatim (method, path,
 * headers, body) and answers streamed back.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface HttpsFront {
  /** `https://127.0.0.1:<port>`: the origin to hand the vendor instead of the http one. */
  url: string;
  stop(): Promise<void>;
}

export async function startHttpsFront(options: { target: string; key: string; cert: string }): Promise<HttpsFront> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:') throw new Error(`an https front forwards to an http origin, not ${target.protocol}`);
  const server = https.createServer({ key: options.key, cert: options.cert }, (req, res) => {
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port || 80,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('the origin behind the https front did not answer');
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
