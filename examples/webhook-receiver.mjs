// A minimal webhook receiver for the README walkthrough: verifies the seed's X-Humana-Signature
// with the seed's own verifyWebhook, de-duplicates on webhook-id, and prints each event.
// Usage: WEBHOOK_SECRET=whsec_… node examples/webhook-receiver.mjs   (listens on 127.0.0.1:4000)
// (The tests import verifyWebhook from here: what they check deliveries with is what this example runs.)
import http from 'node:http';
import crypto from 'node:crypto';
import { pathToFileURL } from 'node:url';

// The seed's verification function, as written there.
export function verifyWebhook(payload, signature, secret, timestamp) {
  const now = Math.floor(Date.now() / 1000);
  const receivedTime = parseInt(timestamp);
  if (Math.abs(now - receivedTime) > 300) {
    return false; // Reject old requests
  }
  const expectedSignature = crypto
    .createHmac('sha256', secret)
    .update(timestamp + '.' + payload)
    .digest('hex');
  return crypto.timingSafeEqual(Buffer.from(signature, 'hex'), Buffer.from(expectedSignature, 'hex'));
}

function serve(secret) {
  if (!secret) throw new Error('set WEBHOOK_SECRET to the secret returned when the webhook was created');
  const seen = new Set();
  http
    .createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const ok = verifyWebhook(
          body,
          String(req.headers['x-humana-signature'] ?? ''),
          secret,
          String(req.headers['x-humana-timestamp'] ?? ''),
        );
        if (!ok) {
          res.writeHead(401).end();
          return console.log('rejected: bad signature');
        }
        const id = req.headers['webhook-id'];
        if (!seen.has(id)) {
          seen.add(id);
          const event = JSON.parse(body);
          console.log(`${event.type} ${event.id}`, JSON.stringify(event.data));
        }
        res.writeHead(204).end();
      });
    })
    .listen(4000, '127.0.0.1', () => console.log('receiver on http://127.0.0.1:4000/hook'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) serve(process.env.WEBHOOK_SECRET);
