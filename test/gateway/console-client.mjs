// The analyst's side of the console test, run in the manager's namespace: logs in over HTTPS and GETs each path
// given, then prints one JSON object: the server certificate's SHA-256 and, per path, the status and the body (JSON,
// or base64 for a pcap). Usage: console-client.mjs BASE NAME PATH... (the password on stdin).
import https from 'node:https';

const [base, name, ...paths] = process.argv.slice(2);
const password = (
  await new Promise((r) => {
    let s = '';
    process.stdin.on('data', (d) => (s += d));
    process.stdin.on('end', () => r(s));
  })
).trim();
// the console's self-signed certificate: not verified here, its fingerprint is printed for the test to compare
const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true });
let fingerprint;
function request(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(path, base),
      {
        method,
        agent,
        localAddress: process.env.LOCAL_ADDRESS || undefined,
        headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
        timeout: Number(process.env.TIMEOUT_MS || 10_000),
      },
      (res) => {
        fingerprint ??= res.socket.getPeerCertificate().fingerprint256;
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}
try {
  const unauth = await request('GET', '/api/flows');
  const login = await request('POST', '/api/login', { name, password });
  const cookie = String(login.headers['set-cookie']?.[0] ?? '').split(';')[0];
  const out = { fingerprint, unauthenticated: unauth.status, login: login.status, results: {} };
  for (const p of paths) {
    const r = await request('GET', p, undefined, { cookie });
    const type = String(r.headers['content-type'] ?? '');
    out.results[p] = { status: r.status, body: type.includes('json') ? JSON.parse(r.body.toString('utf8')) : r.body.toString('base64') };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: String(err && err.message) })}\n`);
}
