import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, FslmError } from '../../shared/errors.ts';
import { toHttpError } from '../src/http-status.ts';
import { parseChatRequest } from '../src/openai-chat.ts';

test('the last user message is the stack input; sampling fields go to the final stage', () => {
  const chat = parseChatRequest({
    model: 'default', stream: true, stream_options: { include_usage: true }, max_tokens: 50, temperature: 0.5, stop: 'END', seed: 7,
    messages: [{ role: 'system', content: 'be nice' }, { role: 'user', content: 'first' }, { role: 'assistant', content: 'ok' }, { role: 'user', content: [{ type: 'text', text: 'second' }] }],
  });
  assert.equal(chat.input, 'second');
  assert.equal(chat.stream, true);
  assert.equal(chat.includeUsage, true);
  assert.deepEqual(chat.finalParams, { max_new_tokens: 50, temperature: 0.5, top_p: undefined, seed: '7', stop: ['END'] });
});

test('bad requests are INVALID_ARGUMENT naming the field', () => {
  const cases: Array<[unknown, string]> = [
    [{ messages: [{ role: 'user', content: 'x' }] }, 'model'],
    [{ model: 'm', messages: [] }, 'messages'],
    [{ model: 'm', messages: [{ role: 'system', content: 'x' }] }, 'messages'],
    [{ model: 'm', n: 2, messages: [{ role: 'user', content: 'x' }] }, 'n'],
    [{ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }, 'messages[0].content[0]'],
  ];
  for (const [body, field] of cases) {
    assert.throws(() => parseChatRequest(body), (e) => e instanceof FslmError && e.code === ErrorCode.InvalidArgument && e.field === field);
  }
});

test('error codes map to HTTP statuses and OpenAI error bodies', () => {
  assert.equal(toHttpError(new FslmError(ErrorCode.ResourceExhausted, 'busy')).status, 429);
  assert.equal(toHttpError(new FslmError(ErrorCode.DeadlineExceeded, 'late')).status, 504);
  assert.equal(toHttpError(new FslmError(ErrorCode.Unavailable, 'gone')).status, 503);
  const { body } = toHttpError(new FslmError(ErrorCode.InvalidArgument, 'bad', { field: 'model' }));
  assert.deepEqual(body.error, { message: 'bad', type: 'invalid_request_error', param: 'model', code: 'INVALID_ARGUMENT' });
  assert.equal(toHttpError(new Error('boom')).status, 500);
});
