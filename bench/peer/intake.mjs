// Peer baseline for the intake benchmark: a webhook intake written the way a
// typical Node.js Lambda would do it (parse the API Gateway v2 event, verify the
// GitHub signature with @octokit/webhooks-methods, parse the payload, enqueue it
// with @aws-sdk/client-sqs). Measurement tool only; never part of the product.
//
// Usage: node intake.mjs [--iterations N] [--warmup N] [--sizes 1024,25600,262144,4194304]
//   --warmup N: untimed deliveries per size before measuring
//               (default: 10% of the iterations, at least 5)
// stdout: JSON lines only. Everything else goes to stderr.

import { createHash, createHmac } from "node:crypto";
import { Readable } from "node:stream";
import { verify } from "@octokit/webhooks-methods";
import { SQSClient, SendMessageCommand } from "@aws-sdk/client-sqs";
import { HttpResponse } from "@smithy/protocol-http";

const SECRET = "It's a Secret to Everybody";
const QUEUE_URL = "http://127.0.0.1:4566/000000000000/reviews";
const DEFAULT_SIZES = [1024, 25600, 262144, 4194304];

function die(msg) {
  process.stderr.write(`intake.mjs: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const out = { iterations: null, warmup: null, sizes: DEFAULT_SIZES };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--iterations") {
      const n = Number(val());
      if (!Number.isInteger(n) || n <= 0) die("--iterations must be a positive integer");
      out.iterations = n;
    } else if (a === "--warmup") {
      const n = Number(val());
      if (!Number.isInteger(n) || n < 0) die("--warmup must be a non-negative integer");
      out.warmup = n;
    } else if (a === "--sizes") {
      const sizes = val().split(",").map((s) => Number(s.trim()));
      if (sizes.some((s) => !Number.isInteger(s) || s < 256)) die("--sizes must be integers >= 256");
      out.sizes = sizes;
    } else if (a === "-h" || a === "--help") {
      process.stderr.write("usage: node intake.mjs [--iterations N] [--warmup N] [--sizes 1024,25600,262144,4194304]\n");
      process.exit(0);
    } else {
      die(`unknown argument ${a}`);
    }
  }
  return out;
}

function defaultIterations(size) {
  if (size <= 4096) return 2000;
  if (size <= 65536) return 1000;
  if (size <= 1048576) return 200;
  return 20;
}

// ---------------------------------------------------------------------------
// Network-free request handler. The SDK still builds, serializes (AWS JSON 1.0),
// signs (SigV4) the request and deserializes the response; only the socket I/O
// is replaced. SendMessage validates MD5OfMessageBody against the MD5 of the
// MessageBody it sent, so the canned response carries the real MD5. It is
// precomputed per payload size (the "server" side is not what we measure) and
// the handler looks it up by the serialized request's byte length, so the timed
// loop does no server-side work (a real handler would just write the bytes to
// a socket).
// ---------------------------------------------------------------------------
const cannedByRequestLength = new Map(); // serialized request byte length -> response bytes
let lastRequest = null;
let uncannedRequests = 0; // requests answered by the slow path (must stay 0 in timed loops)

// The SDK hands the JSON request body over as a Uint8Array subclass (it also
// accepts strings). Decode without going through its string-compat methods.
function requestBodyText(body) {
  if (typeof body === "string") return body;
  if (body == null) return "";
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
}

function requestBodyLength(body) {
  if (typeof body === "string") return Buffer.byteLength(body, "utf8");
  return body == null ? 0 : body.byteLength;
}

function cannedResponseBytes(messageBody) {
  const md5 = createHash("md5").update(messageBody, "utf8").digest("hex");
  return Buffer.from(
    JSON.stringify({ MessageId: "00000000-0000-0000-0000-000000000000", MD5OfMessageBody: md5 }),
    "utf8",
  );
}

class CannedSqsHandler {
  constructor() {
    this.config = {};
  }
  async handle(request) {
    lastRequest = request;
    let bytes = cannedByRequestLength.get(requestBodyLength(request.body));
    if (bytes === undefined) {
      // Not prepared in advance (e.g. the startup self-check): compute from the request.
      uncannedRequests++;
      bytes = cannedResponseBytes(JSON.parse(requestBodyText(request.body)).MessageBody ?? "");
    }
    return {
      response: new HttpResponse({
        statusCode: 200,
        headers: { "content-type": "application/x-amz-json-1.0", "content-length": String(bytes.length) },
        body: Readable.from([bytes]),
      }),
    };
  }
  updateHttpClientConfig(key, value) {
    this.config[key] = value;
  }
  httpHandlerConfigs() {
    return this.config;
  }
  destroy() {}
}

// ---------------------------------------------------------------------------
// Startup: modules imported (above), SQS client built once.
// ---------------------------------------------------------------------------
const args = parseArgs(process.argv.slice(2));

const sqs = new SQSClient({
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  endpoint: "http://127.0.0.1:4566",
  requestHandler: new CannedSqsHandler(),
});
const clientBuiltMs = performance.now();

function sendCommand(body, deliveryId) {
  return new SendMessageCommand({
    QueueUrl: QUEUE_URL,
    MessageBody: body,
    MessageAttributes: {
      org_id: { DataType: "String", StringValue: "org-1" },
      provider: { DataType: "String", StringValue: "github" },
      event: { DataType: "String", StringValue: "pull_request" },
      delivery_id: { DataType: "String", StringValue: deliveryId },
    },
  });
}

function checkLastRequest(expectedBody) {
  const r = lastRequest;
  if (!r) die("request handler was never called");
  const h = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
  if (!String(h["authorization"] ?? "").startsWith("AWS4-HMAC-SHA256 ")) die("request was not SigV4-signed");
  if (h["x-amz-target"] !== "AmazonSQS.SendMessage") die(`unexpected x-amz-target ${h["x-amz-target"]}`);
  const sent = JSON.parse(requestBodyText(r.body));
  if (sent.MessageBody !== expectedBody) die("serialized MessageBody differs from the payload");
  if (Object.keys(sent.MessageAttributes ?? {}).length !== 4) die("message attributes were not serialized");
}

// Self-check: one send must resolve (and pass the SDK's MD5 validation).
{
  const probe = '{"zen":"Keep it logically awesome."}';
  const out = await sqs.send(sendCommand(probe, "00000000-0000-0000-0000-000000000001"));
  if (out.MessageId !== "00000000-0000-0000-0000-000000000000") die("sqs.send did not return the canned MessageId");
  checkLastRequest(probe);
}

console.log(
  JSON.stringify({
    kind: "cold_start",
    ms: performance.now(),
    client_built_ms: clientBuiltMs,
  }),
);

// ---------------------------------------------------------------------------
// Deterministic fixtures.
// ---------------------------------------------------------------------------
function buildPayload(size) {
  const base = {
    action: "opened",
    number: 1,
    pull_request: {
      id: 1,
      number: 1,
      state: "open",
      title: "Add intake benchmark",
      user: { login: "octocat", id: 1 },
      head: { ref: "feature", sha: "0123456789abcdef0123456789abcdef01234567" },
      base: { ref: "main", sha: "89abcdef0123456789abcdef0123456789abcdef" },
      html_url: "https://github.com/acme/widgets/pull/1",
    },
    repository: { id: 42, name: "widgets", full_name: "acme/widgets", private: true },
    organization: { login: "acme", id: 7 },
    sender: { login: "octocat", id: 1 },
    padding: "",
  };
  const emptyLen = Buffer.byteLength(JSON.stringify(base), "utf8");
  if (emptyLen > size) die(`size ${size} is smaller than the base payload (${emptyLen} bytes)`);
  base.padding = "x".repeat(size - emptyLen);
  const s = JSON.stringify(base);
  if (Buffer.byteLength(s, "utf8") !== size) die(`payload is not ${size} bytes`);
  return s;
}

function buildEvent(body, deliveryId) {
  const signature = "sha256=" + createHmac("sha256", SECRET).update(body, "utf8").digest("hex");
  const rawPath = "/api/webhooks/github/acme";
  return JSON.stringify({
    version: "2.0",
    routeKey: "POST /api/webhooks/{provider}/{orgSlug}",
    rawPath,
    rawQueryString: "",
    headers: {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body, "utf8")),
      "user-agent": "GitHub-Hookshot/abc1234",
      "x-github-event": "pull_request",
      "x-github-delivery": deliveryId,
      "x-github-hook-id": "123456",
      "x-hub-signature-256": signature,
    },
    requestContext: {
      accountId: "000000000000",
      apiId: "abcdef1234",
      domainName: "abcdef1234.execute-api.us-east-1.amazonaws.com",
      domainPrefix: "abcdef1234",
      http: {
        method: "POST",
        path: rawPath,
        protocol: "HTTP/1.1",
        sourceIp: "192.0.2.1",
        userAgent: "GitHub-Hookshot/abc1234",
      },
      requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
      routeKey: "POST /api/webhooks/{provider}/{orgSlug}",
      stage: "$default",
      time: "01/Jan/2024:00:00:00 +0000",
      timeEpoch: 1704067200000,
    },
    pathParameters: { provider: "github", orgSlug: "acme" },
    body,
    isBase64Encoded: false,
  });
}

// ---------------------------------------------------------------------------
// The measured unit: one delivery.
// ---------------------------------------------------------------------------
async function deliver(eventString) {
  const ev = JSON.parse(eventString);
  const ok = await verify(SECRET, ev.body, ev.headers["x-hub-signature-256"]);
  if (!ok) throw new Error("signature verification failed");
  const payload = JSON.parse(ev.body);
  if (payload.action !== "opened") throw new Error("unexpected payload");
  await sqs.send(sendCommand(ev.body, ev.headers["x-github-delivery"]));
}

for (const size of args.sizes) {
  const iterations = args.iterations ?? defaultIterations(size);
  const warmup = args.warmup ?? Math.max(5, Math.ceil(iterations * 0.1));
  const body = buildPayload(size);
  const deliveryId = `72d3162e-cc78-11e3-81ab-${size.toString(16).padStart(12, "0")}`;
  const eventString = buildEvent(body, deliveryId);

  // Prepare the canned SQS answer for exactly the request this size produces.
  await sqs.send(sendCommand(body, deliveryId)); // computes MD5 from the request once
  checkLastRequest(body);
  cannedByRequestLength.clear();
  cannedByRequestLength.set(requestBodyLength(lastRequest.body), cannedResponseBytes(body));

  // Sanity: verify() is true for this fixture, and the SDK request is what we expect.
  const ev0 = JSON.parse(eventString);
  if ((await verify(SECRET, ev0.body, ev0.headers["x-hub-signature-256"])) !== true) die("verify() returned false");
  for (let i = 0; i < warmup; i++) await deliver(eventString);
  checkLastRequest(body);

  const uncanned0 = uncannedRequests;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) await deliver(eventString);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (uncannedRequests !== uncanned0) die("timed loop hit the handler's slow path");

  console.log(
    JSON.stringify({
      kind: "intake",
      bytes: size,
      iterations,
      cpu_us_per_delivery: +((cpu.user + cpu.system) / iterations).toFixed(2),
      wall_us_per_delivery: +((wallMs * 1000) / iterations).toFixed(2),
    }),
  );
}

console.log(JSON.stringify({ kind: "memory", peak_rss_kib: process.resourceUsage().maxRSS }));
