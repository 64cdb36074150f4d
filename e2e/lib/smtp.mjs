// A real SMTP server process for the tests: Python's aiosmtpd (scripts/test installs it), started on
// a free port; every mail it receives comes back as one JSON line `{to, data}` on its stdout.
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort } from './accountd.mjs';

const SINK = `
import json, sys
from aiosmtpd.controller import Controller
class Sink:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({"to": envelope.rcpt_tos, "data": envelope.content.decode("utf-8", "replace")}), flush=True)
        return "250 OK"
controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("READY", flush=True)
sys.stdin.read()
controller.stop()
`;

export async function startSmtp() {
  const check = spawnSync('python3', ['-c', 'import aiosmtpd']);
  if (check.status !== 0) {
    throw new Error("these tests need Python's aiosmtpd: `python3 -m pip install aiosmtpd` (scripts/test installs it)");
  }
  const port = await freePort();
  const child = spawn('python3', ['-c', SINK, String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const mails = [];
  const waiters = [];
  const deliver = () => {
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i];
      const j = mails.findIndex((m) => m.to.includes(w.to));
      if (j >= 0) {
        waiters.splice(i--, 1);
        clearTimeout(w.timer);
        w.resolve(mails.splice(j, 1)[0]);
      }
    }
  };
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('aiosmtpd did not start')), 20000);
    child.on('exit', (code) => reject(new Error(`aiosmtpd exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'READY') {
        clearTimeout(timer);
        resolve();
        return;
      }
      mails.push(JSON.parse(line));
      deliver();
    });
  });
  return {
    port,
    /** The next mail received for `to` (waits up to 15 s). */
    nextMail: (to) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no mail for ${to} reached the SMTP server`)), 15000);
      waiters.push({ to: to.toLowerCase(), resolve, timer });
      deliver();
    }),
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.on('exit', resolve);
      child.stdin.end();
      child.kill();
    }),
  };
}

/** The body of a raw RFC 5322 message, its transfer encoding undone. */
export function mailText(raw) {
  const split = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, split);
  const body = raw.slice(split).trim();
  const encoding = /^content-transfer-encoding:\s*(\S+)/im.exec(head)?.[1]?.toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
  }
  return body;
}

/** The one-time code in a mail: its only run of exactly six digits. */
export function sixDigits(raw) {
  const text = mailText(raw);
  const codes = text.match(/(?<!\d)\d{6}(?!\d)/g) ?? [];
  if (codes.length !== 1) throw new Error(`expected one 6-digit code in the mail, found ${codes.length}:\n${text}`);
  return codes[0];
}
