// The HTTP door reads a request body strictly and says what is wrong with one it refuses, before any
// stage is asked: a body not declared JSON or compressed (415), too large (413, from its content-length
// or as it arrives), not UTF-8 (no byte silently replaced), not JSON, or giving a key twice (no
// duplicate silently wins), or trickled in too slowly (408: a slow-loris client cannot hold a connection
// for minutes). Real nats-server, `fslm stage` (tiny model) and `fslm router` processes.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { testModels } from '../support/models.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { StackBuilder } from './support/stack-builder.ts';

const OK_BODY = { model: 'bodies', max_tokens: 2, messages: [{ role: 'user', content: 'Name a colour.' }] };

interface Answer {
  status: number;
  body: { error?: { message: string; param: string | null }; fslm?: { code: string }; choices?: unknown[] };
}

/** POSTs raw bytes with exactly these headers (fetch would add or fix some). */
function post(http: string, bytes: Buffer, headers: Record<string, string>): Promise<Answer> {
  const [host, port] = [http.slice(0, http.lastIndexOf(':')), Number(http.slice(http.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method: 'POST', path: '/v1/chat/completions', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(bytes);
  });
}

const json = (text: string) => Buffer.from(text, 'utf8');
const JSON_HEADERS = { 'content-type': 'application/json' };

describe('request bodies on the HTTP door', { timeout: 600_000 }, () => {
  const stack = new StackBuilder('bodies').stage({ name: 'only', template: 'Answer: {input}', params: { maxNewTokens: 2, temperature: 0 } });
  let cluster: Cluster;
  const stageRequests = () => cluster.stages.get('only')![0].events.filter((e) => e.event === 'request').length;
  /** Requests this file sent to be served (every other one must be refused before the stage). */
  let served = 0;

  before(async () => {
    cluster = await startCluster({ stack, modelDir: testModels('tiny')['tiny-onnx'] });
  }, { timeout: 180_000 });
  after(() => cluster?.stop(), { timeout: 120_000 });

  test('bytes that are not UTF-8 are refused, not replaced', async () => {
    const text = JSON.stringify(OK_BODY);
    const at = text.indexOf('Name');
    for (const bad of [Buffer.from([0xff, 0xfe]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf])]) {
      const bytes = Buffer.concat([json(text.slice(0, at)), bad, json(text.slice(at))]);
      const answer = await post(cluster.http, bytes, JSON_HEADERS);
      assert.equal(answer.status, 400, `bytes ${bad.toString('hex')}`);
      assert.match(answer.body.error!.message, /not valid UTF-8/);
    }
  });

  test('a key given twice in one object is refused, naming it', async () => {
    const cases: Array<[string, string]> = [
      ['{"model":"bodies","max_tokens":0,"max_tokens":2,"messages":[{"role":"user","content":"hi"}]}', 'max_tokens'],
      ['{"model":"nope","model":"bodies","messages":[{"role":"user","content":"hi"}]}', 'model'],
      ['{"model":"bodies","messages":[{"role":"user","content":"hi","\\u0063ontent":"bye"}]}', 'messages[].content'],
      ['{"model":"bodies","fslm":{"timeout_ms":1,"timeout_ms":60000},"messages":[{"role":"user","content":"hi"}]}', 'fslm.timeout_ms'],
    ];
    for (const [text, key] of cases) {
      const answer = await post(cluster.http, json(text), JSON_HEADERS);
      assert.equal(answer.status, 400, text);
      assert.equal(answer.body.error!.param, key);
      assert.match(answer.body.error!.message, /more than once/);
    }
  });

  test('a body not declared as uncompressed UTF-8 JSON is refused with 415', async () => {
    const text = JSON.stringify(OK_BODY);
    const cases: Array<[Buffer, Record<string, string>, RegExp]> = [
      [json(text), { 'content-type': 'text/plain' }, /content-type: application\/json/],
      [json(text), { 'content-type': 'application/x-www-form-urlencoded' }, /content-type: application\/json/],
      [json(text), {}, /no content-type/],
      [json(text), { 'content-type': 'application/json; charset=iso-8859-1' }, /must be UTF-8/],
      [gzipSync(json(text)), { 'content-type': 'application/json', 'content-encoding': 'gzip' }, /content-encoding "gzip"/],
    ];
    for (const [bytes, headers, message] of cases) {
      const answer = await post(cluster.http, bytes, headers);
      assert.equal(answer.status, 415, JSON.stringify(headers));
      assert.match(answer.body.error!.message, message);
    }
  });

  test('a body over 2 MiB is refused with 413, whether its length is declared or not', async () => {
    const big = json(JSON.stringify({ ...OK_BODY, user: 'u', padding: 'x'.repeat(3 << 20) }));
    const declared = await post(cluster.http, big, { ...JSON_HEADERS, 'content-length': String(big.length) });
    assert.equal(declared.status, 413);
    const chunked = await post(cluster.http, big, { ...JSON_HEADERS, 'transfer-encoding': 'chunked' });
    assert.equal(chunked.status, 413);
  });

  test('a body trickled in one byte a second is cut with 408 once the request takes longer than its bound', async () => {
    const body = json(JSON.stringify({ ...OK_BODY, user: 'a slow client '.repeat(8) }));
    const [host, port] = [cluster.http.slice(0, cluster.http.lastIndexOf(':')), Number(cluster.http.slice(cluster.http.lastIndexOf(':') + 1))];
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host, port }, () => {
        socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${cluster.http}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
        let sent = 0;
        // One byte a second: the whole body would take longer than the router lets a request take to arrive.
        const trickle = setInterval(() => {
          if (sent < body.length && !socket.destroyed) socket.write(body.subarray(sent, ++sent));
        }, 1000);
        let received = '';
        socket.on('data', (chunk) => (received += chunk.toString('utf8')));
        socket.on('close', () => {
          clearInterval(trickle);
          resolve(received);
        });
        socket.on('error', (error) => {
          clearInterval(trickle);
          reject(error);
        });
      });
    });
    assert.match(answer, /^HTTP\/1\.1 408 /, `the trickled request is cut: ${answer.slice(0, 80)}`);
  });

  test('x-fslm-timeout-ms takes decimal milliseconds only: hex, binary, octal, exponents are refused, not read', async () => {
    for (const value of ['0x10', '0b11', '0o7', '1e5', 'Infinity', '-5', '']) {
      const answer = await post(cluster.http, json(JSON.stringify(OK_BODY)), { ...JSON_HEADERS, 'x-fslm-timeout-ms': value });
      assert.equal(answer.status, 400, JSON.stringify(value));
      assert.equal(answer.body.error!.param, 'x-fslm-timeout-ms');
    }
    const decimal = await post(cluster.http, json(JSON.stringify(OK_BODY)), { ...JSON_HEADERS, 'x-fslm-timeout-ms': '60000' });
    assert.equal(decimal.status, 200);
    served++;
  });

  test('malformed JSON is refused with the parser\'s reason; nothing refused reached the stage, and it still serves', async () => {
    const answer = await post(cluster.http, json('{"model":'), JSON_HEADERS);
    assert.equal(answer.status, 400);
    assert.match(answer.body.error!.message, /not valid JSON: .+/);
    // The served requests' logs are in (a stage logs a request as it ends, maybe after its answer left).
    if (served > 0) await cluster.stages.get('only')![0].waitForEvent((e) => e.event === 'request', 30_000);
    assert.equal(stageRequests(), served, 'the stage was asked nothing for any refused body');
    const charset = await post(cluster.http, json(JSON.stringify(OK_BODY)), { 'content-type': 'Application/JSON; charset="UTF-8"' });
    assert.equal(charset.status, 200, 'a UTF-8 JSON body is served');
    assert.equal(charset.body.choices?.length, 1);
  });
});
