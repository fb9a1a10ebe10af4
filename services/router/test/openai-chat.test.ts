// The OpenAI chat-completions request, field by field (openai-chat.ts), and how errors become OpenAI
// error bodies (http-status.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ErrorCode, FslmError } from '../../shared/errors.ts';
import { toHttpError } from '../src/http-status.ts';
import { OPENAI_FIELDS, parseChatRequest } from '../src/openai-chat.ts';
import { RequestError } from '../src/request-errors.ts';

const user = [{ role: 'user', content: 'Why is the sky blue?' }];
const base = { model: 'default', messages: user };

/** The refusal of a body: [param, OpenAI code]. */
function refusal(body: Record<string, unknown>): [string | undefined, string] {
  try {
    parseChatRequest(body);
  } catch (error) {
    assert.ok(error instanceof RequestError, `a RequestError, got ${String(error)}`);
    assert.equal(toHttpError(error).status, 400);
    return [error.field, error.openaiCode];
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

describe('OpenAI chat request', { timeout: 10_000 }, () => {
  test('the user message is the stack input; sampling fields go to the final stage, named as the client wrote them', () => {
    const chat = parseChatRequest({
      ...base, stream: true, stream_options: { include_usage: true }, max_completion_tokens: 50, temperature: 0, top_p: 0.9, stop: 'END', seed: 7,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'first ' }, { type: 'text', text: 'second' }] }],
      user: 'u-1', n: 1, presence_penalty: 0, logprobs: false, response_format: { type: 'text' }, tool_choice: 'none', store: false,
      service_tier: 'auto', modalities: ['text'], fslm: { disable_handoff: true, timeout_ms: 5000, request_id: 'abc' },
    });
    assert.equal(chat.input, 'first second');
    assert.equal(chat.stream, true);
    assert.equal(chat.includeUsage, true);
    assert.deepEqual(chat.finalParams, { max_new_tokens: 50, temperature: 0, top_p: 0.9, seed: '7', stop: ['END'] });
    assert.equal(chat.fields.param('final', 'max_new_tokens'), 'max_completion_tokens');
    assert.equal(chat.fields.param('final', 'temperature'), 'temperature');
    assert.equal(chat.fields.input, 'messages');
    assert.deepEqual([chat.disableHandoff, chat.timeoutMs, chat.requestId], [true, 5000, 'abc']);
    assert.equal(parseChatRequest({ ...base, max_tokens: 9 }).fields.param('final', 'max_new_tokens'), 'max_tokens');
    assert.equal(parseChatRequest({ ...base, max_tokens: 9, max_completion_tokens: 9 }).finalParams.max_new_tokens, 9);
    assert.deepEqual(parseChatRequest({ ...base, temperature: null, stop: null }).finalParams, { max_new_tokens: undefined, temperature: undefined, top_p: undefined, seed: undefined, stop: undefined });
  });

  test('every number is checked at the door: never wrapped, truncated or replaced by a default', () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ max_tokens: 0 }, 'max_tokens', 'integer_below_min_value'],
      [{ max_tokens: -1 }, 'max_tokens', 'integer_below_min_value'],
      [{ max_tokens: 1.5 }, 'max_tokens', 'invalid_type'],
      [{ max_tokens: 4294967296 }, 'max_tokens', 'integer_above_max_value'],
      [{ max_tokens: '8' }, 'max_tokens', 'invalid_type'],
      [{ max_completion_tokens: 0 }, 'max_completion_tokens', 'integer_below_min_value'],
      [{ max_tokens: 8, max_completion_tokens: 9 }, 'max_tokens', 'invalid_value'],
      [{ temperature: -0.5 }, 'temperature', 'decimal_below_min_value'],
      [{ temperature: 2.5 }, 'temperature', 'decimal_above_max_value'],
      [{ temperature: 'hot' }, 'temperature', 'invalid_type'],
      [{ top_p: 0 }, 'top_p', 'decimal_below_min_value'],
      [{ top_p: 1.5 }, 'top_p', 'decimal_above_max_value'],
      [{ n: 2 }, 'n', 'unsupported_value'],
      [{ n: 1.5 }, 'n', 'invalid_type'],
      [{ seed: -1 }, 'seed', 'integer_below_min_value'],
      [{ seed: 2 ** 60 }, 'seed', 'invalid_value'],
      [{ stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', 'invalid_value'],
      [{ stop: [1] }, 'stop[0]', 'invalid_type'],
      [{ stop: [''] }, 'stop[0]', 'invalid_value'],
      [{ stream: 'yes' }, 'stream', 'invalid_type'],
      [{ stream_options: { include_usage: true } }, 'stream_options', 'invalid_value'],
      [{ stream: true, stream_options: { include_obfuscation: true } }, 'stream_options.include_obfuscation', 'unsupported_value'],
      [{ stream: true, stream_options: { other: 1 } }, 'stream_options.other', 'unknown_parameter'],
      [{ user: 5 }, 'user', 'invalid_type'],
      [{ fslm: { timeout_ms: 0 } }, 'fslm.timeout_ms', 'decimal_below_min_value'],
      [{ fslm: { timeout_ms: 1e12 } }, 'fslm.timeout_ms', 'decimal_above_max_value'],
      [{ fslm: { request_id: 7 } }, 'fslm.request_id', 'invalid_type'],
      [{ fslm: { handoff: false } }, 'fslm.handoff', 'unknown_parameter'],
      [{ frobnicate: true }, 'frobnicate', 'unknown_parameter'],
    ];
    for (const [extra, param, code] of cases) assert.deepEqual(refusal({ ...base, ...extra }), [param, code], JSON.stringify(extra));
  });

  test('messages: one user message of text; every other shape is refused naming where', () => {
    const cases: Array<[unknown, string, string]> = [
      [undefined, 'messages', 'missing_required_parameter'],
      [[], 'messages', 'invalid_value'],
      ['hi', 'messages', 'invalid_type'],
      [[{ role: 'system', content: 'be nice' }, ...user], 'messages[0].role', 'unsupported_value'],
      [[{ role: 'developer', content: 'be nice' }, ...user], 'messages[0].role', 'unsupported_value'],
      [[...user, { role: 'assistant', content: 'ok' }], 'messages[1].role', 'unsupported_value'],
      [[...user, ...user], 'messages[1]', 'unsupported_value'],
      [[{ role: 'wizard', content: 'x' }], 'messages[0].role', 'invalid_value'],
      [[{ role: 'user', content: 'x', name: 'bob' }], 'messages[0].name', 'unsupported_parameter'],
      [[{ role: 'user', content: 'x', tool_calls: [] }], 'messages[0].tool_calls', 'unknown_parameter'],
      [[{ role: 'user' }], 'messages[0].content', 'missing_required_parameter'],
      [[{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }], 'messages[0].content[0].type', 'unsupported_value'],
      [[{ role: 'user', content: 5 }], 'messages[0].content', 'invalid_type'],
    ];
    for (const [messages, param, code] of cases) assert.deepEqual(refusal({ model: 'm', messages }), [param, code], JSON.stringify(messages));
    assert.deepEqual(refusal({ messages: user }), ['model', 'missing_required_parameter']);
  });

  test('logprobs and top_logprobs go to the final stage; top_logprobs is 0..20 and only with logprobs', () => {
    assert.deepEqual(parseChatRequest({ ...base, logprobs: true, top_logprobs: 3 }).finalParams, {
      max_new_tokens: undefined, temperature: undefined, top_p: undefined, seed: undefined, stop: undefined, logprobs: true, top_logprobs: 3,
    });
    assert.equal(parseChatRequest({ ...base, logprobs: true }).finalParams.top_logprobs, 0);
    assert.equal(parseChatRequest({ ...base, logprobs: true, top_logprobs: 20 }).finalParams.top_logprobs, 20);
    assert.equal(parseChatRequest({ ...base, logprobs: false }).finalParams.logprobs, undefined);
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ top_logprobs: 2 }, 'top_logprobs', 'invalid_value'],
      [{ logprobs: false, top_logprobs: 0 }, 'top_logprobs', 'invalid_value'],
      [{ logprobs: true, top_logprobs: 21 }, 'top_logprobs', 'integer_above_max_value'],
      [{ logprobs: true, top_logprobs: -1 }, 'top_logprobs', 'integer_below_min_value'],
      [{ logprobs: true, top_logprobs: 2.5 }, 'top_logprobs', 'invalid_type'],
      [{ logprobs: true, top_logprobs: '2' }, 'top_logprobs', 'invalid_type'],
      [{ logprobs: 'yes' }, 'logprobs', 'invalid_type'],
    ];
    for (const [fields, param, code] of cases) assert.deepEqual(refusal({ ...base, ...fields }), [param, code], JSON.stringify(fields));
  });

  test('fields fslm cannot honour are accepted only "off", else refused naming them', () => {
    const refused: Record<string, unknown> = {
      presence_penalty: 0.5, frequency_penalty: -1, logit_bias: { 50256: -100 },
      response_format: { type: 'json_object' }, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'required',
      parallel_tool_calls: true, functions: [{ name: 'f' }], function_call: 'auto', metadata: { a: 'b' }, store: true, service_tier: 'flex',
      modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' }, prediction: { type: 'content', content: 'x' },
      reasoning_effort: 'low', verbosity: 'low', web_search_options: {},
    };
    assert.deepEqual(Object.keys(refused).sort(), [...OPENAI_FIELDS.offOnly].sort(), 'every such field is tried');
    for (const [field, value] of Object.entries(refused)) {
      const [param, code] = refusal({ ...base, [field]: value });
      assert.equal(param, field);
      assert.ok(code === 'unsupported_value' || code === 'unsupported_parameter', `${field}: ${code}`);
    }
    for (const field of OPENAI_FIELDS.offOnly) parseChatRequest({ ...base, [field]: null });
  });

  test('the README decides every field the door knows', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const field of [...OPENAI_FIELDS.works, ...OPENAI_FIELDS.offOnly]) assert.match(readme, new RegExp(`^\\| \`${field}\``, 'm'), field);
  });

  test('errors become HTTP statuses and OpenAI error bodies with OpenAI codes', () => {
    assert.equal(toHttpError(new FslmError(ErrorCode.ResourceExhausted, 'busy')).body.error.code, 'rate_limit_exceeded');
    assert.equal(toHttpError(new FslmError(ErrorCode.ResourceExhausted, 'busy')).status, 429);
    assert.equal(toHttpError(new FslmError(ErrorCode.DeadlineExceeded, 'late')).status, 504);
    const gone = toHttpError(new FslmError(ErrorCode.Unavailable, 'gone'), 'keywords');
    assert.equal(gone.status, 503);
    assert.deepEqual(gone.body, { error: { message: 'gone', type: 'server_error', param: null, code: null }, fslm: { code: 'UNAVAILABLE', stage: 'keywords' } });
    const { body } = toHttpError(refusalError({ ...base, max_tokens: 0 }));
    assert.deepEqual(body.error, { message: body.error.message, type: 'invalid_request_error', param: 'max_tokens', code: 'integer_below_min_value' });
    assert.match(body.error.message, /max_tokens.*expected an integer >= 1/);
    assert.equal(toHttpError(new Error('boom')).status, 500);
  });
});

function refusalError(body: Record<string, unknown>): unknown {
  try {
    parseChatRequest(body);
  } catch (error) {
    return error;
  }
  return null;
}
