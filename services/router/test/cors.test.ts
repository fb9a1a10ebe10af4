// Browser access to the HTTP door (cors.ts): off by default, exact origins or * when configured.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CorsPolicy, parseCorsOrigins } from '../src/cors.ts';

describe('CORS policy', { timeout: 10_000 }, () => {
  test('off by default: no access-control headers, so browsers refuse cross-origin calls', () => {
    const cors = new CorsPolicy(parseCorsOrigins(undefined));
    assert.equal(cors.enabled, false);
    assert.deepEqual(cors.headers('https://app.example'), {});
    assert.deepEqual(cors.preflight('https://app.example', 'content-type'), { allow: 'GET, HEAD, POST, OPTIONS' });
  });

  test('an allowed origin is echoed, with the methods and the headers the browser asked for', () => {
    const cors = new CorsPolicy(parseCorsOrigins('https://app.example, http://localhost:3000'));
    assert.deepEqual(cors.headers('http://localhost:3000'), { 'access-control-allow-origin': 'http://localhost:3000', vary: 'Origin' });
    const preflight = cors.preflight('https://app.example', 'content-type, authorization, x-stainless-os');
    assert.equal(preflight['access-control-allow-origin'], 'https://app.example');
    assert.equal(preflight['access-control-allow-methods'], 'GET, HEAD, POST, OPTIONS');
    assert.equal(preflight['access-control-allow-headers'], 'content-type, authorization, x-stainless-os');
    assert.deepEqual(cors.headers('https://evil.example'), { vary: 'Origin' });
    assert.equal(cors.preflight('https://evil.example', 'content-type')['access-control-allow-origin'], undefined);
  });

  test('* allows any origin', () => {
    assert.deepEqual(new CorsPolicy(parseCorsOrigins('*')).headers('https://anything.example'), { 'access-control-allow-origin': '*' });
  });

  test('a value that is not an origin is refused at startup, naming the variable', () => {
    assert.throws(() => parseCorsOrigins('https://app.example/path'), /FSLM_ROUTER_CORS_ORIGINS: .* did you mean "https:\/\/app.example"/);
    assert.throws(() => parseCorsOrigins('app.example'), /FSLM_ROUTER_CORS_ORIGINS: "app.example" is not an origin/);
  });
});
