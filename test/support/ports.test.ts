// The ports given to third-party servers in tests: distinct within one request, and a start that lost a port to
// another process (a real EADDRINUSE from a real child) runs again on fresh ports instead of failing the test.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { freePorts, isPortConflict, onFreePorts } from './ports.ts';
import { startServerProcess, type ServerProcess } from './server-process.ts';

/**
 * Node serving HTTP on `port` until killed: a stand-in for SeaweedFS, Jaeger and the others, which bind the same
 * way. Ready once the port answers as this child does (a squatter on the port accepts but never answers).
 */
function startListener(port: number): Promise<ServerProcess> {
  return startServerProcess({
    name: 'listener',
    command: process.execPath,
    args: ['-e', `require('node:http').createServer((q, r) => r.end('listener')).listen(${port}, '127.0.0.1')`],
    ready: async () => (await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) })).text()) === 'listener',
    timeoutMs: 20_000,
  });
}

function holdPort(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject).listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('ports for test servers', { timeout: 60_000 }, () => {
  test('freePorts gives distinct ports, each free to bind once given', async () => {
    const ports = await freePorts(32);
    assert.equal(new Set(ports).size, 32, `distinct: ${ports.join(', ')}`);
    const held = await Promise.all(ports.map(holdPort));
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
    await assert.rejects(freePorts(0), RangeError);
  });

  test('a start that finds its port taken runs again on fresh ports', async () => {
    const tried: number[] = [];
    let squatter: net.Server | undefined;
    let server: ServerProcess | undefined;
    try {
      server = await onFreePorts(2, async ([port]) => {
        tried.push(port);
        if (tried.length === 1) squatter = await holdPort(port); // another process takes it before the child binds
        return startListener(port);
      });
      assert.equal(tried.length, 2, 'started twice');
      assert.notEqual(tried[1], tried[0], 'on a new port the second time');
      assert.ok(server.child.exitCode === null, 'the second start serves');
    } finally {
      await server?.stop();
      squatter?.close();
    }
  });

  test('other failures are not retried, and the last conflict is thrown after the attempts run out', async () => {
    let calls = 0;
    await assert.rejects(onFreePorts(1, async () => {
      calls++;
      throw new Error('bad configuration');
    }), /bad configuration/);
    assert.equal(calls, 1);

    calls = 0;
    const squatters: net.Server[] = [];
    try {
      await assert.rejects(onFreePorts(1, async ([port]) => {
        calls++;
        squatters.push(await holdPort(port));
        return startListener(port);
      }, 2), (error: unknown) => isPortConflict(error) && /listener exited/.test(String(error)));
      assert.equal(calls, 2);
    } finally {
      for (const s of squatters) s.close();
    }
  });
});
