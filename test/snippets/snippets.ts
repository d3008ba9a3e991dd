/**
 * The client snippets of the seed (webhooks-events-system.md), verbatim, and the corrected versions docs/snippets.md
 * shows where the verbatim one cannot work. Tests substitute only the base URL (`https://api.humana.ai` →
 * `<server>/api`, `wss://api.humana.ai` → `ws://<server>/api`) and the key (`your-api-key`); browser snippets also get
 * `access_token=<key>` appended to the URL (browsers cannot set headers on EventSource/WebSocket).
 */

export const SEED_VERIFY_WEBHOOK_NODE = `// Example verification (Node.js)
const crypto = require('crypto')

function verifyWebhook(payload, signature, secret, timestamp) {
  // Verify timestamp (replay protection)
  const now = Math.floor(Date.now() / 1000)
  const receivedTime = parseInt(timestamp)
  if (Math.abs(now - receivedTime) > 300) {
    return false // Reject old requests
  }
  
  // Verify signature
  const expectedSignature = crypto
    .createHmac('sha256', secret)
    .update(timestamp + '.' + payload)
    .digest('hex')
  
  return crypto.timingSafeEqual(
    Buffer.from(signature, 'hex'),
    Buffer.from(expectedSignature, 'hex')
  )
}`;

export const SEED_SSE_BROWSER = `const eventSource = new EventSource('/api/v1/events/stream?companions=comp-123', {
  headers: {
    'Authorization': 'Bearer your-api-key'
  }
})

eventSource.addEventListener('message.sent', (event) => {
  const data = JSON.parse(event.data)
  console.log('New message:', data.content)
})

eventSource.addEventListener('error', (event) => {
  console.error('SSE error:', event)
})`;

export const SEED_SSE_NODE = `const EventSource = require('eventsource')

const eventSource = new EventSource('https://api.humana.ai/v1/events/stream', {
  headers: {
    'Authorization': 'Bearer your-api-key'
  }
})

eventSource.onmessage = (event) => {
  const data = JSON.parse(event.data)
  // Process event
}`;

/** eventsource v4: named export, headers through its fetch option, one listener per event type (docs/snippets.md). */
export const CORRECTED_SSE_NODE = `const { EventSource } = require('eventsource')

const eventSource = new EventSource('https://api.humana.ai/v1/events/stream', {
  fetch: (input, init) =>
    fetch(input, {
      ...init,
      headers: { ...init.headers, Authorization: 'Bearer your-api-key' }
    })
})

eventSource.addEventListener('message.sent', (event) => {
  const data = JSON.parse(event.data)
  console.log('New message:', data.content) // Process event
})`;

export const SEED_SSE_PYTHON = `import sseclient
import requests

headers = {'Authorization': 'Bearer your-api-key'}
response = requests.get('https://api.humana.ai/v1/events/stream', 
                       headers=headers, stream=True)

client = sseclient.SSEClient(response)
for event in client.events():
    data = json.loads(event.data)
    # Process event`;

/** requests only (no sseclient-py), `import json` added, lines read as they arrive (docs/snippets.md). */
export const CORRECTED_SSE_PYTHON = `import json
import requests

headers = {'Authorization': 'Bearer your-api-key'}
response = requests.get('https://api.humana.ai/v1/events/stream',
                        headers=headers, stream=True)

event = {}
for line in response.iter_lines(chunk_size=None, decode_unicode=True):
    if line.startswith('event:'):
        event['type'] = line[len('event:'):].strip()
    elif line.startswith('data:'):
        event['data'] = line[len('data:'):].strip()
    elif line == '' and 'data' in event:
        data = json.loads(event['data'])
        print(event.get('type'), data, flush=True)  # Process event
        event = {}`;

export const SEED_WS_BROWSER = `const ws = new WebSocket('wss://api.humana.ai/v1/ws?companions=comp-123')

ws.onopen = () => {
  // Subscribe to events
  ws.send(JSON.stringify({
    type: 'subscribe',
    requestId: 'req-123',
    payload: {
      events: ['message.sent', 'message.received']
    }
  }))
}

ws.onmessage = (event) => {
  const message = JSON.parse(event.data)
  if (message.type === 'event') {
    console.log('Event received:', message.payload)
  }
}`;

export const SEED_WS_PYTHON = `import asyncio
import websockets
import json

async def listen_events():
    uri = "wss://api.humana.ai/v1/ws?companions=comp-123"
    headers = {"Authorization": "Bearer your-api-key"}
    
    async with websockets.connect(uri, extra_headers=headers) as websocket:
        # Subscribe to events
        await websocket.send(json.dumps({
            "type": "subscribe",
            "requestId": "req-123",
            "payload": {
                "events": ["message.sent", "message.received"]
            }
        }))
        
        async for message in websocket:
            data = json.loads(message)
            if data["type"] == "event":
                print(f"Event: {data['payload']}")

asyncio.run(listen_events())`;

/** Only the base URL and the key change; browser snippets also get `access_token` (see the file comment). */
export function substitute(snippet: string, serverUrl: string, key: string, opts: { browserToken?: boolean } = {}): string {
  let s = snippet
    .replaceAll('https://api.humana.ai', `${serverUrl}/api`)
    .replaceAll('wss://api.humana.ai', `${serverUrl.replace(/^http/, 'ws')}/api`)
    .replaceAll('your-api-key', key);
  if (opts.browserToken) {
    s = s.replace(
      /(new (?:EventSource|WebSocket)\(')([^']+)'/,
      (_m, head: string, url: string) => `${head}${url}${url.includes('?') ? '&' : '?'}access_token=${key}'`,
    );
  }
  return s;
}
